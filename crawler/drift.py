"""Drift reports: when the platform's surface no longer looks as an adapter expects, keep a sample.

A sample is the raw data that failed (an API body, fiber props, the paths a page fetched), written as
JSON under the worker's data dir (`<data dir>/surface/<account>-<time>-<locator>.json`) with secrets
stripped: cookies, tokens, session ids, signatures and storage state never reach the disk or the hub.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

SECRET_KEYS = re.compile(
    r"cookie|session|token|secret|password|authorization|storage_state|a_bogus|x-bogus|signature|ticket",
    re.IGNORECASE,
)
SECRET_QUERY = re.compile(
    r"((?:msToken|a_bogus|X-Bogus|sessionid|token|ticket|signature|verifyFp|fp)=)[^&#\s\"']*", re.IGNORECASE
)
STRIPPED = "[stripped]"
MAX_SAMPLE_BYTES = 256 * 1024


def secrets_strip(value: Any) -> Any:
    """A copy of `value` without secrets: secret-named keys blanked, secret query parameters cut."""
    if isinstance(value, dict):
        return {
            str(k): STRIPPED if SECRET_KEYS.search(str(k)) else secrets_strip(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [secrets_strip(v) for v in value]
    if isinstance(value, str):
        return SECRET_QUERY.sub(r"\1" + STRIPPED, value)
    return value


def sample_save(*, data_dir: Path, account_id: int, locator: str, message: str, sample: Any) -> Path:
    """Write one drift sample (secrets stripped); returns its path."""
    folder = data_dir / "surface"
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", locator)[:80]
    path = folder / f"{account_id}-{int(time.time() * 1000)}-{safe}.json"
    text = json.dumps(
        {"account_id": account_id, "locator": locator, "message": message, "sample": secrets_strip(sample)},
        ensure_ascii=False,
        indent=1,
        default=str,
    )
    path.write_text(text[:MAX_SAMPLE_BYTES], encoding="utf-8")
    return path
