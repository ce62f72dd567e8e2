"""The assignment benchmark runs in a rolled-back transaction: it measures, prints JSON and leaves the
database as it was."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from accounts.models import Account, Worker
from bench.commands.assignment import Command


@pytest.mark.django_db
def test_assignment_benchmark_measures_and_rolls_back() -> None:
    out = io.StringIO()
    call_command(Command(), workers=3, accounts=20, stdout=out)
    result = json.loads(out.getvalue())
    assert (result["workers"], result["accounts"], result["failover_worker"]) == (3, 20, ["bench-0000"])
    assert result["failover_accounts"] > 0
    assert (Worker.objects.count(), Account.objects.count()) == (0, 0)
