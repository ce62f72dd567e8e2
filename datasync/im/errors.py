"""Errors the agent-facing services raise (the IM app's and the desk's); ``api/errors.py`` turns each
into its HTTP answer once."""

from __future__ import annotations

from typing import Any


class ActionForbidden(Exception):
    """The user may see the account but not act on it (a read-only team role): 403."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class ActionConflict(Exception):
    """The action would collide with what someone else did meanwhile; resend with ``confirm``: 409."""

    def __init__(self, code: str, detail: str, *, confirmable: bool = True, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.confirmable = confirmable  # False: no `confirm` can override it (the state forbids it)
        self.extra = extra
