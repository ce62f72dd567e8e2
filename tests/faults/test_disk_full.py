"""Fault: the disk under the hub's database and var dir fills up while a real worker pushes DMs
(issue 24 fault suite). The hub refuses the frames (`internal_error`), the worker resends them with
backoff, reads go on, `/healthz` names the disk; once space is freed every DM reaches the IM API once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imhub.processes import http_json
from tests.crawler.support import crawler_stack, im_ids, wait_synced
from tests.support.processes import wait_until
from tests.support.services import ServiceUnavailable, disk_fill, tmpfs_mount

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

SIZES = ("--works", "2", "--comments", "6", "--conversations", "3", "--messages", "8")


def test_frames_refused_on_a_full_disk_are_resent_and_land_once_space_is_back(tmp_path: Path) -> None:
    try:
        mount = tmpfs_mount(tmp_path / "tmpfs", size_mb=96)
        mounted = mount.__enter__()
    except ServiceUnavailable as exc:
        pytest.skip(f"tmpfs unavailable: {exc}")
    try:
        # the hub's directory (SQLite database, var dir) lives on the small filesystem
        (tmp_path / "stack").mkdir()
        (tmp_path / "stack" / "hub").symlink_to(mounted)
        with crawler_stack(
            tmp_path / "stack",
            kinds=["session"],
            sim_args=SIZES,
            interval=600,
            hub_options={"IMHUB_MIN_FREE_MB": "5"},
        ) as stack:
            [account_id], [uid] = stack.account_ids, stack.uids
            wait_synced(stack, account_id, uid, timeout=240)
            wait_until(
                lambda: (
                    stack.api("GET", f"/api/manage/accounts/{account_id}/")[1]["listener_status"]
                    == "listening"
                ),
                timeout=120,
                what="the listener",
            )
            assert stack.worker is not None
            # when the disk fills up and fans write DMs meanwhile
            filler = disk_fill(mounted)
            dms = [
                stack.sim.control("POST", "inject/message", {"uid": uid, "text": f"盘满了 {n}"})
                for n in range(3)
            ]
            wait_until(
                lambda: "resending in" in stack.worker.log_tail(400),  # type: ignore[union-attr]
                timeout=60,
                what="the worker to be told the hub refuses its frames",
            )
            # then reads go on, and /healthz is 503 naming the disk
            status, page = stack.api("GET", f"/api/im/unified-messages/?account_id={account_id}&limit=5")
            assert (status, len(page["results"])) == (200, 5), page
            status, health = http_json("GET", f"{stack.hub.url}/healthz", timeout=30)
            assert (status, health["disk"]["ok"]) == (503, False), health
            assert not {dm["server_id"] for dm in dms} & set(im_ids(stack, account_id)["messages"])
            # when space is freed, every DM reaches the IM API, each once, and health is back
            time.sleep(2)
            filler.unlink()
            wanted = {dm["server_id"] for dm in dms}
            wait_until(
                lambda: wanted <= set(im_ids(stack, account_id)["messages"]),
                timeout=180,
                what="the DMs after the disk was freed",
            )
            ids = im_ids(stack, account_id)["messages"]
            assert len(ids) == len(set(ids))
            wait_until(
                lambda: http_json("GET", f"{stack.hub.url}/healthz", timeout=30)[0] == 200,
                timeout=30,
                what="/healthz back to 200",
            )
    finally:
        mount.__exit__(None, None, None)
