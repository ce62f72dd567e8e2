"""`Change`: one account's applied change, the unit a DataStore applies and the fan-out carries.

Built once by whoever made the change durable (a sync frame's handler, a sent reply's entity, a reload
from the database) and handed on as it is: to this process's store, to the fan-out handlers, and, as
`as_message()`, to the other hub processes (plain JSON/msgpack values, string keys: the Redis channel
layer carries it), where `from_message` makes it a `Change` again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Records = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Change:
    """What changed in one account's data, all durable already.

    - ``upserts``: kind -> records after the merge, i.e. each row's full current platform state;
    - ``deleted``: kind -> ids;
    - ``seq``: the account's last applied sync seq when the change was made;
    - ``revision``: the account's revision after the change (None: unknown, e.g. a reload after a
      fan-out gap; the store then holds the account at no known revision until its next start);
    - ``applied_at``: when the hub applied it, epoch ms.
    """

    account_id: int
    seq: int = 0
    upserts: Records = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    applied_at: int = 0
    revision: int | None = None

    def as_message(self) -> dict[str, Any]:
        """The change as the fan-out carries it between hub processes."""
        return {
            "account_id": self.account_id,
            "seq": self.seq,
            "upserts": self.upserts,
            "deleted": self.deleted,
            "applied_at": self.applied_at,
            "revision": self.revision,
        }

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> Change:
        """A change sent by another hub process (`as_message`); KeyError/ValueError when malformed."""
        revision = data.get("revision")
        return cls(
            account_id=int(data["account_id"]),
            seq=int(data.get("seq") or 0),
            upserts=dict(data.get("upserts") or {}),
            deleted=dict(data.get("deleted") or {}),
            applied_at=int(data.get("applied_at") or 0),
            revision=int(revision) if revision is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """A change as this process's store took it: what the `sync` fan-out handlers get. ``new``: the
    ``(kind, record)`` pairs that were new to this store."""

    change: Change
    new: list[tuple[str, dict[str, Any]]]
