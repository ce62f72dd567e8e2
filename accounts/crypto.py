"""Encryption at rest for account storage state (cookies, local storage).

Fernet with a key derived from `settings.STORAGE_STATE_KEY`; the plaintext never leaves this module
except to the worker that holds the account.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"imhub-storage-state:{settings.STORAGE_STATE_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


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
