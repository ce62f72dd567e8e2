"""Runner backoff classes with stand-in adapters: transient -> backoff, login expired -> expired and
stopped, risk -> cool-down; one account's failure leaves another account's runner crawling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from crawler.datamanager import DataManager
from crawler.errors import LoginExpired, RiskDetected
from crawler.outbox import outbox_open
from crawler.runner import AccountRunner, backoff_seconds
from datasync.protocol import AssignmentAccount, Profile
from tests.crawler.test_worker_runtime import FakePool


class Host:
    def __init__(self) -> None:
        self.reports: list[tuple[int, str, str, str]] = []

    async def account_status_send(self, runner: AccountRunner) -> None:
        self.reports.append((runner.account_id, runner.login_status, runner.runner_status, runner.last_error))

    async def outbox_pump(self, account_id: int) -> None:
        return None


class Adapter:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def login_check(self, *, context: object) -> Profile:
        if isinstance(self.error, LoginExpired):
            raise self.error
        return Profile(nickname="n")

    async def crawl(
        self, *, context: object, memory: object
    ) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
        if self.error is not None:
            raise self.error
        yield ("messages", [{"message_id": "m1", "conversation_id": "c", "direction": "in", "created_at": 1}])


def run_two(tmp_path: Path, error: Exception) -> tuple[AccountRunner, AccountRunner, Host]:
    async def scenario() -> tuple[AccountRunner, AccountRunner, Host]:
        host = Host()
        runners = []
        for account_id, adapter in ((1, Adapter(error)), (2, Adapter(None))):
            runners.append(
                AccountRunner(
                    account=AssignmentAccount(id=account_id, platform="douyin", monitor_interval=3600),
                    epoch=1,
                    pool=FakePool(),  # type: ignore[arg-type]
                    adapter=adapter,
                    manager=DataManager(outbox=outbox_open(data_dir=tmp_path, account_id=account_id)),
                    host=host,
                )
            )
        for runner in runners:
            runner.start()
        while len({r[0] for r in host.reports if r[2] in ("idle", "backoff", "cooldown", "stopped")}) < 2:
            await asyncio.sleep(0.01)
        for runner in runners:
            await runner.stop()
        return runners[0], runners[1], host

    return asyncio.run(scenario())


def test_a_transient_error_backs_off_with_its_message_and_the_other_account_crawls(tmp_path: Path) -> None:
    failing, healthy, _ = run_two(tmp_path, RuntimeError("page crashed"))

    assert (failing.runner_status, failing.last_error, failing.error_count) == (
        "stopped",
        "RuntimeError: page crashed",
        1,
    )
    assert (healthy.crawls, healthy.items_sent, healthy.last_error) == (1, 1, "")


def test_an_expired_login_reports_expired_and_stops(tmp_path: Path) -> None:
    failing, healthy, host = run_two(tmp_path, LoginExpired("redirected to the login page (/)"))

    assert (1, "not_logged_in", "stopped", "not logged in: redirected to the login page (/)") in host.reports
    assert failing.next_run_at is None
    assert healthy.crawls == 1


def test_risk_cools_down(tmp_path: Path) -> None:
    failing, _, host = run_two(tmp_path, RiskDetected("captcha page shown (risk control)"))

    assert (1, "logged_in", "cooldown", "risk: captcha page shown (risk control)") in host.reports
    assert failing.next_run_at is not None


def test_backoff_doubles_per_class_and_is_capped() -> None:
    assert [backoff_seconds(kind="transient", failures=n) for n in (1, 2, 3, 20)] == [2.0, 4.0, 8.0, 300.0]
    assert [backoff_seconds(kind="risk", failures=n) for n in (1, 2, 20)] == [60.0, 120.0, 1800.0]
