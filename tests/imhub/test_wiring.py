"""The hub's one wiring point: what every hub process runs, and the one way an applied change goes out."""
# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.conftest)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from accounts.commands import AssignCommand, LoginStartCommand, ResyncCommand, RevokeCommand, WorkerCommand
from accounts.models import Account
from datasync import fanout, handlers
from datasync.commands import command_frame
from datasync.im.replies import ReplyRequestCommand
from datasync.protocol import WORKER_FRAMES
from datasync.runtime import Wiring, runtime, wiring_compose
from imhub.wiring import hub_wiring
from tests.datasync.conftest import Held, clean_runtime, held  # noqa: F401
from tests.datasync.records import comment, sync_frame


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found)) if found else found


def test_the_running_wiring_is_the_hubs_and_covers_every_worker_frame_command_and_fanout_kind() -> None:
    # given a Django set-up (ImhubConfig.ready() has run)
    wiring = runtime.wiring

    # then it is the project's composition, with one handler per frame a worker sends, a frame for
    # every worker command there is, and handlers for every fan-out kind (but the runtime's own probe)
    assert wiring == hub_wiring()
    assert sorted(wiring.frame_handlers) == sorted(cls.TYPE for cls in WORKER_FRAMES)
    assert set(wiring.command_frames) == _subclasses(WorkerCommand)
    assert sorted(wiring.fanout_handlers) == sorted(set(fanout.KINDS) - {"probe"})
    assert set(wiring.frame_preparers) <= set(wiring.frame_handlers)


COMMANDS = [
    (lambda account_id: AssignCommand(account_id=account_id, epoch=1), "master:task:assign"),
    (lambda account_id: RevokeCommand(account_id=account_id, epoch=1), "master:task:revoke"),
    (lambda account_id: LoginStartCommand(account_id=account_id, session_id="s1"), "master:login:start"),
    (lambda account_id: ResyncCommand(account_id=account_id), "master:resync"),
    (
        lambda account_id: ReplyRequestCommand(
            account_id=account_id, reply_id="r1", target={"kind": "work", "content_id": "w1"}, text="好"
        ),
        "master:reply:request",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("command", "frame_type"), COMMANDS)
def test_a_worker_command_becomes_its_frame_by_name(command: Any, frame_type: str) -> None:
    # given a command as it reaches the hub process holding the worker's socket
    account = Account.objects.create(nickname="a", epoch=1)
    message = command(account.id).as_message()
    # when it is turned into a frame
    frame = command_frame(message=message)
    # then it is the protocol frame of that command, for that account
    assert frame is not None and frame_type == type(frame).TYPE
    payload = frame.payload
    assert (payload.assignment.account.id if frame_type == "master:task:assign" else payload.account_id) == (
        account.id
    )


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
async def test_an_applied_sync_change_is_handed_on_once(
    held: Held, monkeypatch: pytest.MonkeyPatch, rewire: Callable[..., None]
) -> None:
    # given a started runtime, a counting sync handler and a recorder of what goes to the group
    seen: list[list[Any]] = []
    published: list[tuple[str, dict[str, Any]]] = []
    fanout_handlers = runtime.wiring.fanout_handlers
    rewire(
        fanout_handlers={
            **fanout_handlers,
            "sync": (*fanout_handlers["sync"], lambda applied: seen.append(applied.new)),
        }
    )
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
