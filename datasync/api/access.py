"""Who may see what: team scoping of accounts, and this process's DataStore for the views."""

from __future__ import annotations

from typing import Any

from datasync.api.errors import StoreUnavailable
from datasync.store import DataStore, StoreNotFound


def accounts_for(user: Any) -> Any:
    """The accounts ``user`` may see (superusers: all; others: their teams' accounts)."""
    try:
        from accounts.services import accounts_visible_to
    except ImportError:  # accounts.services not built yet: the model's own queryset method
        from accounts.models import Account

        return Account.objects.visible_to(user)
    return accounts_visible_to(user)


def account_for(*, user: Any, account_id: int) -> Any:
    """The visible account, else StoreNotFound (404: an invisible account is indistinguishable from none)."""
    account = accounts_for(user).filter(pk=account_id).first()
    if account is None:
        raise StoreNotFound("account", account_id)
    return account


def account_visible_check(*, user: Any, account_id: int) -> None:
    """StoreNotFound unless ``user`` may see the account (answer cached for a few seconds)."""
    from datasync.api.auth import visible_account_ids

    ids = visible_account_ids(user)
    if ids is not None and account_id in ids:
        return
    if ids is None and accounts_for(user).filter(pk=account_id).exists():
        return
    raise StoreNotFound("account", account_id)


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
