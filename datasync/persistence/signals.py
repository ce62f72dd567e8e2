"""Entity rows have no foreign key in the database (one lookup less per inserted row): a deleted
account's rows are kept consistent by taking its row lock first."""

from __future__ import annotations

from typing import Any

from accounts.models import Account


def _account_lock_before_delete(*, instance: Any, **_kwargs: Any) -> None:
    """pre_delete of an Account (inside the deletion's transaction, before its entity rows go): take
    the account's row lock, so a sync frame in flight commits first and its rows are deleted too, and
    a later frame finds no account (`unknown_account`). Entity has no database foreign key."""
    Account.objects.select_for_update().filter(pk=instance.pk).exists()


def entity_signals_connect() -> None:
    """Called once at start (`DatasyncConfig.ready`)."""
    from django.db.models.signals import pre_delete

    pre_delete.connect(_account_lock_before_delete, sender=Account, dispatch_uid="imhub-entity-account-lock")
