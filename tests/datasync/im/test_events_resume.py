"""Event ids across a hub restart: a client resuming with an id of an earlier process life must resync."""

from __future__ import annotations

from datasync.im.events import EventBuffer


def _publish(buffer: EventBuffer, n: int) -> None:
    for i in range(n):
        buffer.publish(type="account_status", account_id=1, data={"n": i})


def test_an_id_from_before_a_restart_asks_for_resync():
    # given a process that issued events 1..5, then a restarted one that starts later and issued 3
    before = EventBuffer(10, first_id=0)
    _publish(before, 5)
    after = EventBuffer(10, first_id=1_000)
    _publish(after, 3)
    # when the client resumes from the old process's last id
    # then it is told to resync (None), never handed a partial replay
    assert after.since(before.last_id) is None


def test_an_id_this_buffer_never_issued_asks_for_resync():
    # given
    buffer = EventBuffer(10, first_id=100)
    _publish(buffer, 2)
    # when / then
    assert buffer.since(500) is None
    assert buffer.since(102) == []
    assert [e.event_id for e in buffer.since(100) or []] == [101, 102]


def test_a_fresh_buffer_with_no_events_asks_an_old_client_to_resync():
    # given a restarted process with no events yet
    buffer = EventBuffer(10, first_id=1_000)
    # when / then
    assert buffer.since(7) is None
    assert buffer.since(1_000) == []


def test_an_id_from_another_process_asks_for_resync_even_when_its_number_fits():
    # given two processes behind one address (tags 5 and 9) that booted in the same second
    a = EventBuffer(100, first_id=1_700_000_000, tag=5)
    b = EventBuffer(100, first_id=1_700_000_000, tag=9)
    _publish(a, 3)
    _publish(b, 20)
    # when a client of A resumes on B
    # then B tells it to resync rather than replaying 17 events the client never missed
    assert b.since(a.last_id) is None
    # and on A itself it resumes exactly after its id
    first = a.last_id
    _publish(a, 2)
    assert [e.event_id for e in a.since(first) or []] == [
        (1_700_000_004 << 20) | 5,
        (1_700_000_005 << 20) | 5,
    ]
    assert a.last_id < 2**53  # a JavaScript number
