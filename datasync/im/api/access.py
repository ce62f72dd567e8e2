"""The IM API's access to data: a visible account row, and this process's DataStore."""

from __future__ import annotations

from typing import Any

from datasync.im.api.errors import StoreUnavailable
from datasync.im.api.visibility import accounts_for
from datasync.im.errors import ActionForbidden
from datasync.store import DataStore, StoreNotFound


def account_for(*, user: Any, account_id: int) -> Any:
    """The visible account, else StoreNotFound (404: an invisible account is indistinguishable from none)."""
    account = accounts_for(user).filter(pk=account_id).first()
    if account is None:
        raise StoreNotFound("account", account_id)
    return account


def account_writable_for(*, user: Any, account_id: int) -> Any:
    """The visible account the user may act on (reply, change threads): 404 when not visible, 403
    (``read_only``) when the user's role in its team is read-only."""
    from accounts.services import account_writable

    account = account_for(user=user, account_id=account_id)
    if not account_writable(user, account):
        raise ActionForbidden("read_only", "your role in this account's team is read-only")
    return account


def im_store() -> DataStore:
    """This process's loaded DataStore; waits for a start-up load in progress."""
    from datasync.runtime import runtime

    if runtime.ready:
        return runtime.store
    if runtime.started:
        try:
            return runtime.wait_ready(timeout=30.0)
        except TimeoutError:
            raise StoreUnavailable("the DataStore is still loading") from None
    raise StoreUnavailable("the DataStore is not started in this process")
