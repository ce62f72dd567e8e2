"""Saved queue views: a name and the queue's parameters, the owner's own or shared with a team.

Only the queue's own parameters are kept, each checked as the queue checks it (a saved filter that the
queue would refuse is refused when it is saved), plus the view (``mine``, ``unassigned``, ``all``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from datasync.desk.api.queries import queue_filter
from datasync.desk.models import SavedFilter
from datasync.store import StoreNotFound, StoreQueryError

KEYS = ("status", "assignee", "account_id", "kind", "unread", "label", "customer_id", "ordering")
VIEWS = ("mine", "unassigned", "all")
MAX_PER_USER = 50


def filters_visible(user: Any) -> QuerySet[SavedFilter]:
    """The user's own filters and those shared with one of their teams."""
    return SavedFilter.objects.filter(Q(owner=user) | Q(team__in=user.groups.all())).select_related(
        "team", "owner"
    )


def filter_save(
    *, user: Any, name: str, params: dict[str, Any], view: str, team_id: int | None
) -> SavedFilter:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise StoreQueryError("name", "must be 1 to 80 characters")
    if view not in VIEWS:
        raise StoreQueryError("view", f"must be one of {', '.join(VIEWS)}")
    unknown = sorted(set(params) - set(KEYS))
    if unknown:
        raise StoreQueryError("params", f"unknown parameters: {', '.join(unknown)}")
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    queue_filter(clean, user_id=user.pk)  # the queue's own checks (raises naming the parameter)
    if team_id is not None and not user.groups.filter(pk=team_id).exists():
        raise StoreNotFound("team", team_id)
    if SavedFilter.objects.filter(owner=user).count() >= MAX_PER_USER:
        raise StoreQueryError("name", f"at most {MAX_PER_USER} saved filters per user")
    return SavedFilter.objects.create(owner=user, team_id=team_id, name=name, params={**clean, "view": view})


def filter_delete(*, user: Any, pk: int) -> None:
    """Only the owner deletes a filter (a teammate's shared filter is theirs)."""
    deleted, _ = SavedFilter.objects.filter(owner=user, pk=pk).delete()
    if not deleted:
        raise StoreNotFound("saved filter", pk)


def filter_json(row: SavedFilter) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "params": row.params,
        "team_id": row.team_id,
        "team": row.team.name if row.team else None,
        "owner": row.owner.get_username(),
    }
