"""Round-robin auto-assignment: an account's new open, unassigned threads go to its available agents.

An account opts in (``AutoAssign``, Django admin). Every ``INTERVAL`` seconds each hub process looks for
open, unassigned threads of such accounts that started waiting after the rule was enabled (the first
sync's backlog is left to the team), and gives each to an agent who may act on the account and is
available: their own switch on the desk page, and the page's heartbeat seen within
``DeskAgent.ONLINE_SECONDS``. The pick is the agent with the fewest open threads, then the one assigned
longest ago (round robin), then the lowest id. The row is locked while it is written, so when two hub
processes race for a thread one assigns it and the other sees it taken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from datasync.desk.activity import desk_index, now_ms
from datasync.desk.index import QueueFilter
from datasync.desk.models import AutoAssign, DeskAgent, ThreadEvent, ThreadEventKind, ThreadState
from datasync.desk.states import states_publish

logger = logging.getLogger(__name__)

INTERVAL = 3.0
BATCH = 200


def agent_seen(*, user: Any, available: bool | None = None) -> DeskAgent:
    """The desk page's heartbeat (and the agent's available/away switch)."""
    agent, _ = DeskAgent.objects.get_or_create(user=user)
    agent.last_seen_at = timezone.now()
    if available is not None:
        agent.available = available
    agent.save(update_fields=["last_seen_at", "available"])
    return agent


def _online() -> list[DeskAgent]:
    since = timezone.now() - timedelta(seconds=DeskAgent.ONLINE_SECONDS)
    return list(
        DeskAgent.objects.filter(
            available=True, last_seen_at__gte=since, user__is_active=True
        ).select_related("user")
    )


def _may_act(agents: Iterable[DeskAgent]) -> dict[int, frozenset[int] | None]:
    from accounts.services import accounts_writable_ids

    return {agent.user_id: accounts_writable_ids(agent.user) for agent in agents}


def auto_assign_run() -> int:
    """Periodic: assign what is due; returns how many threads this process assigned."""
    rules = dict(AutoAssign.objects.filter(enabled=True).values_list("account_id", "enabled_at"))
    if not rules:
        return 0
    ids = desk_index.matching(
        where=QueueFilter(status="open", unassigned=True), visible=frozenset(rules), cap=BATCH
    )
    rows = [r for r in (desk_index.get(i) for i in ids) if r is not None and r.since >= rules[r.account_id]]
    if not rows:
        return 0
    agents = _online()
    if not agents:
        return 0
    may_act = _may_act(agents)
    load = {a.user_id: desk_index.counts(visible=None, user_id=a.user_id)["mine"]["open"] for a in agents}
    assigned = 0
    for row in rows:
        eligible = [a for a in agents if may_act[a.user_id] is None or row.account_id in may_act[a.user_id]]  # type: ignore[operator]
        if not eligible:
            continue
        pick = min(
            eligible,
            key=lambda a: (
                load[a.user_id],
                a.last_assigned_at.timestamp() if a.last_assigned_at else 0.0,
                a.user_id,
            ),
        )
        with transaction.atomic():
            state, _ = ThreadState.objects.select_for_update().get_or_create(
                account_id=row.account_id, kind=row.kind, key=row.key
            )
            if state.assignee_id is not None:
                continue  # taken meanwhile (an agent, or another hub process)
            state.assignee_id = pick.user_id
            state.save()
            ThreadEvent.objects.create(
                account_id=row.account_id,
                thread=row.id,
                action=ThreadEventKind.ASSIGN,
                actor=None,
                data={"from": None, "to": pick.user_id, "auto": True},
            )
            pick.last_assigned_at = timezone.now()
            DeskAgent.objects.filter(pk=pick.pk).update(last_assigned_at=pick.last_assigned_at)
        load[pick.user_id] += 1
        assigned += 1
        states_publish([state])
    if assigned:
        logger.info("auto-assigned %d threads at %d", assigned, now_ms())
    return assigned
