"""An account whose runner reported `surface_changed` (the platform's pages no longer look as the
adapter expects) is loud everywhere an operator looks: admin badge, dashboard and `/metrics`."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import Account, LoginStatus

ERROR = "surface changed: works.work_list: no response within 10s (sample: surface/1-works.json)"


@pytest.mark.django_db
def test_surface_changed_is_shown_in_admin_dashboard_and_metrics() -> None:
    # given one drifted account and one healthy one
    Account.objects.create(
        nickname="drift",
        login_status=LoginStatus.LOGGED_IN,
        runner_status="surface_changed",
        last_error=ERROR,
    )
    Account.objects.create(nickname="ok", login_status=LoginStatus.LOGGED_IN, runner_status="idle")
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))

    # when an operator looks
    admin_list = client.get("/admin/accounts/account/").content.decode()
    dashboard = client.get("/admin/dashboard/").content.decode()
    metrics = client.get("/metrics").content.decode()

    # then the status is a red badge in admin, a bad badge with the error on the dashboard, and counted
    assert 'data-value="surface_changed" style="background:#c62828' in admin_list
    assert '<span class="badge b-bad">surface_changed</span>' in dashboard
    assert "works.work_list: no response within 10s" in dashboard
    assert 'imhub_accounts_by_runner_status{status="surface_changed"} 1.0' in metrics
