"""The hub's one wiring point: what every hub process runs, and the one way an applied change goes out."""
# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.conftest)

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from channels.db import database_sync_to_async

from datasync import fanout, handlers
from datasync.protocol import WORKER_FRAMES
from datasync.runtime import Wiring, runtime, wiring_compose
from imhub.wiring import hub_wiring
from tests.datasync.conftest import Held, clean_runtime, held  # noqa: F401
from tests.datasync.records import comment, sync_frame


def _names(fns: Any) -> list[str]:
    return [f"{fn.__module__}.{fn.__qualname__}" for fn in fns]


def test_the_hub_runtime_is_built_from_the_wiring_listing() -> None:
    # given a Django set-up (ImhubConfig.ready() has run)
    wiring = runtime.wiring

    # then every frame handler, fan-out handler, loader and periodic job is the listed one, and only those
    assert wiring == hub_wiring()
    assert {t: _names([fn]) for t, fn in wiring.frame_handlers.items()} == {
        "worker:register": ["datasync.handlers.worker_register"],
        "worker:heartbeat": ["datasync.handlers.worker_heartbeat"],
        "worker:account:status": ["datasync.handlers.account_status_record"],
        "worker:data:sync": ["datasync.handlers.sync_apply"],
        "worker:login:status": ["datasync.handlers.login_status_record"],
        "worker:reply:result": ["datasync.im.handlers.reply_result_record"],
    }
    assert {kind: _names(fns) for kind, fns in wiring.fanout_handlers.items()} == {
        "sync": ["datasync.im.events.new_items_publish"],
        "read_mark": ["datasync.im.readmarks.read_mark_fanout_apply"],
        "reply_status": ["datasync.im.events.reply_status_publish"],
        "account_status": [
            "datasync.im.events.account_status_publish",
            "datasync.im.api.visibility.visibility_invalidate",
        ],
    }
    assert _names(wiring.loaders) == ["datasync.im.readmarks.read_marks_load"]
    assert [(*_names([fn]), every) for fn, every in wiring.periodic] == [
        ("accounts.services.workers.workers_expire_silent", 10.0),
        ("datasync.runtime.Runtime.snapshot_save", 300.0),
        ("datasync.stats_share.stats_share_publish", 5.0),
        ("datasync.im.replies.replies_dispatch_pending", 1.0),
    ]


def test_every_frame_a_worker_sends_has_one_handler_and_every_fanout_kind_is_handled() -> None:
    wiring = runtime.wiring
    assert sorted(wiring.frame_handlers) == sorted(cls.TYPE for cls in WORKER_FRAMES)
    assert sorted(wiring.fanout_handlers) == sorted(fanout.KINDS)


@pytest.mark.parametrize(
    ("wiring", "message"),
    [
        (
            Wiring(frame_handlers={"master:resync": handlers.sync_apply}),
            "no worker frame of type master:resync",
        ),
        (Wiring(fanout_handlers={"syncs": ()}), "unknown fan-out kind syncs"),
    ],
)
def test_a_wiring_naming_an_unknown_frame_type_or_kind_is_refused(wiring: Wiring, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        runtime.build(wiring)
    assert runtime.wiring == hub_wiring()  # the refused wiring replaced nothing


def test_composed_wirings_keep_one_handler_per_frame_and_every_part_of_a_kind() -> None:
    # given two parts handling the same fan-out kind
    first, second = (lambda d: None), (lambda d: None)
    composed = wiring_compose(
        Wiring(frame_handlers={"worker:data:sync": handlers.sync_apply}, fanout_handlers={"sync": (first,)}),
        Wiring(fanout_handlers={"sync": (second,)}, loaders=(first,)),
    )
    # then both run, in order; a second handler of one frame type is refused
    assert composed.fanout_handlers["sync"] == (first, second)
    assert composed.loaders == (first,)
    with pytest.raises(ValueError, match="two handlers of worker frame worker:data:sync"):
        wiring_compose(composed, Wiring(frame_handlers={"worker:data:sync": handlers.sync_apply}))


@pytest.mark.django_db(transaction=True)
async def test_an_applied_sync_change_is_handed_on_once(held: Held, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a started runtime, a counting sync handler and a recorder of what goes to the group
    seen: list[list[Any]] = []
    published: list[tuple[str, dict[str, Any]]] = []
    wiring = runtime.wiring
    counting = {
        **wiring.fanout_handlers,
        "sync": (*wiring.fanout_handlers["sync"], lambda applied: seen.append(applied.new)),
    }
    monkeypatch.setattr(runtime, "_wiring", dataclasses.replace(wiring, fanout_handlers=counting))
    monkeypatch.setattr(fanout, "fanout_publish_sync", lambda *, kind, data: published.append((kind, data)))
    await runtime.ensure_ready()
    session = handlers.WorkerSession(worker=held.worker, registered=True)
    frame = sync_frame(account_id=held.account.id, epoch=1, seq=1, entities={"comments": [comment("k1")]})

    # when the worker's sync frame is applied
    def handle() -> handlers.Outcome:
        staged = handlers.frame_stage(session=session, frame=frame)
        staged.publish_run()
        return staged

    outcome = await database_sync_to_async(handle)()

    # then this process applied it once, it went to the group once, and the outcome only acks
    assert [[(kind, r["comment_id"]) for kind, r in new] for new in seen] == [[("comments", "k1")]]
    assert [(kind, data["seq"]) for kind, data in published] == [("sync", 1)]
    assert [type(f).TYPE for f in outcome.frames] == ["worker:data:sync:ack"]
    assert runtime.store.account_totals(held.account.id)["comments"] == 1
