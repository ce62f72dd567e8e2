"""Logging helpers: a filter that keeps secrets (tokens, cookies, storage state) out of log lines."""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/]+=*"),
    re.compile(
        r"(?i)((?:token|cookie|cookies|storage_state|password|sessionid|secret)[\"']?\s*[:=]\s*[\"']?)[^\"',\s}]+"
    ),
]


def redact(text: str) -> str:
    """Replace anything that looks like a secret value with `***`."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message with secrets masked; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
