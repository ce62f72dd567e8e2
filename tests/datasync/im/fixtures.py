"""Fixtures for the IM API tests: teams, agents, accounts and a loaded store installed in the runtime."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from accounts.models import Account
from datasync.im.api.auth import session_cache, token_cache
from datasync.im.api.visibility import account_directory, visible_cache
from datasync.runtime import runtime
from datasync.store import DataStore
from tests.datasync.store_data import known_change


@dataclass
class Team:
    agent: User
    other_agent: User
    admin: User
    account: Account
    other_account: Account
    store: DataStore

    def client(self, user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client


@pytest.fixture
def installed_store() -> Iterator[DataStore]:
    """A fresh DataStore installed as this process's ready runtime store."""
    token_cache.clear()
    visible_cache.clear()
    session_cache.clear()
    account_directory.invalidate()
    store = DataStore()
    runtime.serve(store)
    yield store
    runtime.reset()


def team_create(store: DataStore) -> Team:
    red, blue = Group.objects.create(name="red"), Group.objects.create(name="blue")
    agent = User.objects.create_user("agent", password="pw")
    agent.groups.add(red)
    other_agent = User.objects.create_user("other", password="pw")
    other_agent.groups.add(blue)
    admin = User.objects.create_superuser("admin", password="pw")
    account = Account.objects.create(
        nickname="红", team=red, login_status="logged_in", runner_status="running"
    )
    other_account = Account.objects.create(nickname="蓝", team=blue)
    store.apply_change(known_change(account.id))
    store.apply_change(known_change(other_account.id))
    return Team(agent, other_agent, admin, account, other_account, store)


@pytest.fixture
def team(db: Any, installed_store: DataStore) -> Team:
    return team_create(installed_store)
