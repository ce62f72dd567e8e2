"""End-to-end (issue 25 #6, URL schemes): a worker sends records whose avatar and attachment URLs are
`javascript:`/`data:` over a real WebSocket to a hub on a port; the frame is applied, and the IM API
serves those URLs as "" while the http(s) ones are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.datasync.records import conversation, message, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, worker_connect
from tests.support.processes import http_json, make_hub

pytestmark = pytest.mark.e2e

GOOD = "https://p3.douyinpic.com/img/a.jpg"


def test_only_http_urls_reach_the_im_api(tmp_path: Path) -> None:
    # given a hub and a registered worker holding one account
    hub = make_hub(tmp_path).start()
    try:
        seed = hub_seed(hub)
        account_id = seed["account_id"]
        with worker_connect(hub, seed["token"]) as ws:
            assert register(ws)["type"] == "master:register:ack"

            # when it syncs a conversation with a javascript: avatar and messages with bad and good images
            conv = conversation("conv1")
            conv["peer"]["avatar_url"] = "javascript:alert(document.cookie)"
            bad, good = message("m1"), message("m2")
            bad["attachments"] = [
                {"type": "image", "url": " javascript:alert(1)", "thumb_url": "data:text/html,x"}
            ]
            good["attachments"] = [
                {"type": "image", "url": GOOD, "thumb_url": "//p3.douyinpic.com/img/t.jpg"}
            ]
            ws.send(
                sync_text(
                    account_id=account_id,
                    epoch=1,
                    seq=1,
                    entities={"conversations": [conv], "messages": [bad, good]},
                )
            )
            # then the frame is applied whole
            assert recv(ws)["payload"] == {"account_id": account_id, "seq": 1}

        auth = {"Authorization": f"Token {seed['api_token']}"}
        status, convs = http_json(
            "GET", f"{hub.url}/api/im/conversations/?account_id={account_id}", headers=auth
        )
        assert status == 200, convs
        status, msgs = http_json(
            "GET", f"{hub.url}/api/im/messages/?account_id={account_id}&conversation_id=conv1", headers=auth
        )
        assert status == 200, msgs

        # and no script or data URL is served; the http(s) ones are, protocol-relative made https
        served = json.dumps([convs, msgs])
        assert "javascript:" not in served and "data:text" not in served
        by_id = {m["message_id"]: m for m in msgs["results"]}
        assert [(a["url"], a["thumb_url"]) for a in by_id["m1"]["attachments"]] == [("", "")]
        assert [(a["url"], a["thumb_url"]) for a in by_id["m2"]["attachments"]] == [
            (GOOD, "https://p3.douyinpic.com/img/t.jpg")
        ]
    finally:
        hub.stop()
