"""Runner backoff classes with stand-in adapters: transient -> backoff, login expired -> expired and
stopped, risk -> cool-down; one account's failure leaves another account's runner crawling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from crawler.datamanager import DataManager
from crawler.errors import LoginExpired, RiskDetected, SurfaceChanged
from crawler.outbox import outbox_open
from crawler.platforms import CrawlMemory, DriftNote
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
    def __init__(self, error: Exception | None, skipped: int = 0) -> None:
        self.error = error
        self.skipped = skipped

    def memory_new(self) -> CrawlMemory:
        return CrawlMemory()

    async def login_check(self, *, context: object) -> Profile:
        if isinstance(self.error, LoginExpired):
            raise self.error
        return Profile(nickname="n")

    async def crawl(
        self, *, context: object, memory: object
    ) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
        if self.error is not None:
            raise self.error
        for n in range(self.skipped):
            memory.drift.append(  # type: ignore[attr-defined]
                DriftNote(
                    locator=f"comment_list.comments[{n}]", message="bad", sample={"cid": n, "msToken": "x"}
                )
            )
        yield ("messages", [{"message_id": "m1", "conversation_id": "c", "direction": "in", "created_at": 1}])


def run_two(
    tmp_path: Path, error: Exception | None, skipped: int = 0
) -> tuple[AccountRunner, AccountRunner, Host]:
    async def scenario() -> tuple[AccountRunner, AccountRunner, Host]:
        host = Host()
        runners = []
        for account_id, adapter in ((1, Adapter(error, skipped)), (2, Adapter(None))):
            runners.append(
                AccountRunner(
                    account=AssignmentAccount(id=account_id, platform="douyin", monitor_interval=3600),
                    epoch=1,
                    pool=FakePool(),  # type: ignore[arg-type]
                    adapter=adapter,  # type: ignore[arg-type]  # a stand-in: only the calls the runner makes
                    manager=DataManager(outbox=outbox_open(data_dir=tmp_path, account_id=account_id)),
                    host=host,
                    data_dir=tmp_path,
                )
            )
        for runner in runners:
            runner.start()
        done = ("idle", "backoff", "cooldown", "stopped", "surface_changed")
        while len({r[0] for r in host.reports if r[2] in done}) < 2:
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


def test_a_changed_surface_is_reported_with_its_locator_and_a_sample_without_secrets(tmp_path: Path) -> None:
    # given a page that loaded but never fetched what the adapter knows
    error = SurfaceChanged(
        "no known works response came",
        locator="works.work_list",
        sample={"fetched_paths": ["/janus/x/list_next"], "url": "/x?msToken=secret-token"},
    )
    failing, healthy, host = run_two(tmp_path, error)

    # then the account says surface_changed, which locator failed and where the sample is; the other crawls
    [report] = [r for r in host.reports if r[0] == 1 and r[2] == "surface_changed"]
    sample_name = report[3].rsplit("(sample: ", 1)[1].rstrip(")")
    sample = (tmp_path / sample_name).read_text(encoding="utf-8")
    assert report[3].startswith(
        "surface changed: works.work_list: no known works response came (sample: surface/1-"
    )
    assert "/janus/x/list_next" in sample and "secret-token" not in sample
    assert failing.next_run_at is not None and failing.error_count == 1
    assert healthy.crawls == 1


def test_skipped_records_keep_the_rest_of_the_crawl_and_turn_the_status_surface_changed(
    tmp_path: Path,
) -> None:
    # given a crawl in which two records did not parse
    failing, _, host = run_two(tmp_path, None, skipped=2)

    # then what did parse was delivered, the skips are counted and reported with a sample
    [report] = [r for r in host.reports if r[0] == 1 and r[2] == "surface_changed"]
    assert (failing.crawls, failing.items_sent, failing.records_skipped) == (1, 1, 2)
    assert report[3].startswith(
        "surface changed: 2 record(s) skipped (comment_list.comments); first comment_list.comments[0]: bad "
        "(sample: surface/1-"
    )
    assert list((tmp_path / "surface").glob("1-*.json"))


def test_the_alarm_stays_up_while_the_surface_is_retried_and_clears_on_a_clean_crawl(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int, str, str, str]]:
        host = Host()
        adapter = Adapter(SurfaceChanged("no works response", locator="works.work_list"))
        runner = AccountRunner(
            account=AssignmentAccount(id=1, platform="douyin", monitor_interval=3600),
            epoch=1,
            pool=FakePool(),  # type: ignore[arg-type]
            adapter=adapter,  # type: ignore[arg-type]  # a stand-in: only the calls the runner makes
            manager=DataManager(outbox=outbox_open(data_dir=tmp_path, account_id=1)),
            host=host,
            data_dir=tmp_path,
        )
        runner.start()
        # given a runner that found the surface changed, retried once more, then the surface came back
        while sum(1 for r in host.reports if r[2] == "surface_changed") < 2:
            runner.wake_now()
            await asyncio.sleep(0.05)
        adapter.error = None
        while not any(r[2] == "idle" for r in host.reports):
            runner.wake_now()
            await asyncio.sleep(0.05)
        await runner.stop()
        return host.reports

    reports = asyncio.run(scenario())

    # then no report between the first alarm and the clean crawl said anything else
    states = [r[2] for r in reports]
    first, clean = states.index("surface_changed"), states.index("idle")
    assert set(states[first:clean]) == {"surface_changed"}
    assert reports[clean][3] == ""


def test_a_listening_account_crawls_at_the_listening_interval_others_at_their_own(tmp_path: Path) -> None:
    runner = AccountRunner(
        account=AssignmentAccount(id=1, platform="douyin", monitor_interval=60),
        epoch=1,
        pool=FakePool(),  # type: ignore[arg-type]
        adapter=Adapter(None),  # type: ignore[arg-type]
        manager=DataManager(outbox=outbox_open(data_dir=tmp_path, account_id=1)),
        host=Host(),
        listen_crawl_interval=600,
    )

    class Page:
        def is_closed(self) -> bool:
            return False

    class Listening:
        page: Any = Page()
        state = "listening"
        alive = True

    # without a listener, or while it only polls, the account's own interval
    assert runner.crawl_interval() == 60
    listener = Listening()
    runner.listener = listener  # type: ignore[assignment]
    listener.state = "polling"
    assert runner.crawl_interval() == 60
    # while it listens: stretched to the listening interval (never shortened)
    listener.state = "listening"
    assert runner.crawl_interval() == 600
    runner.account = AssignmentAccount(id=1, platform="douyin", monitor_interval=3600)
    assert runner.crawl_interval() == 3600
