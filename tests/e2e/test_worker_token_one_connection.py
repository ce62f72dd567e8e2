"""End-to-end: one live connection per worker token on a real hub process (issue 25 #4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.datasync_support import hub_seed, register, worker_connect
from tests.support.processes import make_hub

pytestmark = pytest.mark.e2e


def test_a_second_worker_with_the_same_token_is_refused_4409(tmp_path: Path) -> None:
    hub = make_hub(tmp_path).start()
    try:
        seed = hub_seed(hub)
        with worker_connect(hub, seed["token"]) as live:
            assert register(live)["type"] == "master:register:ack"
            # when a second process connects with the same token and asks for its accounts
            with worker_connect(hub, seed["token"]) as second, pytest.raises(ConnectionClosed) as closed:
                register(second)
            # then it is closed with 4409 and never got the register answer (with the accounts' cookies)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
            # and the live worker still registers
            assert register(live)["type"] == "master:register:ack"
        assert "second connection with the token of worker w1 refused" in hub.process.log_tail(200)  # type: ignore[union-attr]
        # when the live worker is gone, the token connects again
        with worker_connect(hub, seed["token"]) as again:
            assert register(again)["type"] == "master:register:ack"
    finally:
        hub.stop()
