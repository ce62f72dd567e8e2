"""Canned replies: a team's shared snippets, typed as ``/shortcut`` in the reply box.

``{name}`` in a snippet becomes the customer's nickname (``canned_render``); the reply box expands it
before sending, so the agent sees and may edit the exact text that goes out.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from datasync.desk.models import CannedReply
from datasync.im.errors import ActionForbidden
from datasync.store import StoreNotFound, StoreQueryError

MAX_TEXT = 2000
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
VARIABLES = ("name",)


def canned_visible(user: Any) -> QuerySet[CannedReply]:
    """The snippets of the user's teams (superusers: every team's)."""
    rows = CannedReply.objects.select_related("team")
    return rows if user.is_superuser else rows.filter(team__in=user.groups.all())


def _team_writable(user: Any, team_id: int) -> None:
    from accounts.models import TeamMembershipRole, TeamRole

    if user.is_superuser:
        return
    if not user.groups.filter(pk=team_id).exists():
        raise StoreNotFound("team", team_id)
    if TeamMembershipRole.objects.filter(user=user, team_id=team_id, role=TeamRole.READ_ONLY).exists():
        raise ActionForbidden("read_only", "your role in this team is read-only")


def canned_save(
    *, user: Any, team_id: int, shortcut: str, title: str, text: str, canned: CannedReply | None = None
) -> CannedReply:
    """Create or update a snippet of a team the user acts in."""
    _team_writable(user, team_id)
    shortcut = (shortcut or "").strip().lower()
    if not SHORTCUT.fullmatch(shortcut):
        raise StoreQueryError("shortcut", "1 to 40 of a-z, 0-9, - and _, starting with a letter or digit")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise StoreQueryError("text", f"must be 1 to {MAX_TEXT} characters")
    taken = CannedReply.objects.filter(team_id=team_id, shortcut=shortcut)
    if canned is not None:
        taken = taken.exclude(pk=canned.pk)
    if taken.exists():
        raise StoreQueryError("shortcut", "this team already has a snippet with this shortcut")
    row = canned or CannedReply(created_by=user)
    row.team_id, row.shortcut, row.title, row.text = team_id, shortcut, (title or "").strip()[:120], text
    row.save()
    return row


def canned_delete(*, user: Any, canned: CannedReply) -> None:
    _team_writable(user, canned.team_id)
    canned.delete()


def canned_render(text: str, *, customer: dict[str, Any] | None) -> str:
    """The snippet with its variables filled in (an unknown name stays as it is)."""
    values = {"name": (customer or {}).get("nickname") or ""}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def canned_json(row: CannedReply) -> dict[str, Any]:
    return {
        "id": row.pk,
        "team_id": row.team_id,
        "team": row.team.name,
        "shortcut": row.shortcut,
        "title": row.title,
        "text": row.text,
    }
