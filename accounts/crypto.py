"""Encryption at rest for account storage state (cookies, local storage).

MultiFernet over keys derived from `settings.STORAGE_STATE_KEYS` (the first encrypts, all decrypt:
rotation); the plaintext never leaves this module except to the worker that holds the account.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _one(key: str) -> Fernet:
    digest = hashlib.sha256(f"imhub-storage-state:{key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    return MultiFernet([_one(key) for key in settings.STORAGE_STATE_KEYS])


def reencrypt(token: str) -> str | None:
    """`token` encrypted with the first key (None when no key decrypts it)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        return None


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any] | None:
    """The decrypted value, or None when there is none or the key changed."""
    if not token:
        return None
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError):
        return None
