"""`manage.py storage_state_rekey`: re-encrypt every account's storage state with the first key of
STORAGE_STATE_KEY (key rotation: put the new key first, run this, then drop the old key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import reencrypt
from accounts.models import Account


class Command(BaseCommand):
    help = "Re-encrypt every account's storage state with the first STORAGE_STATE_KEY (after a rotation)."

    def handle(self, *args: Any, **options: Any) -> None:
        done, unreadable = 0, []
        with transaction.atomic():
            for account in (
                Account.objects.select_for_update().exclude(storage_state_encrypted="").order_by("id")
            ):
                token = reencrypt(account.storage_state_encrypted)
                if token is None:
                    unreadable.append(account.pk)
                    continue
                Account.objects.filter(pk=account.pk).update(storage_state_encrypted=token)
                done += 1
        self.stdout.write(f"re-encrypted the storage state of {done} account(s) with the first key")
        if unreadable:
            raise CommandError(
                f"no key of STORAGE_STATE_KEY decrypts the storage state of account(s) {unreadable}: "
                "add the key they were written with (after the new one) and run this again"
            )
