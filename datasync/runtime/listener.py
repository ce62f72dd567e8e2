"""The fan-out listener: this process's raw channel on the fan-out group and `imhub.accounts`, each
message turned into `(kind, data)` for the runtime to deliver.

- `datasync.fanout` messages: `(kind, data)`; a `sync` change becomes a `Change` again, and one this
  process published itself is skipped (it was applied here before its ack);
- `account.event` (`accounts.commands.publish_account_event`): `("account_status", the account's data)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from accounts.commands import ACCOUNT_EVENT
from datasync import fanout
from datasync.store import Change

logger = logging.getLogger("datasync.runtime")


def message_decode(message: dict[str, Any]) -> tuple[str, Any] | None:
    """The `(kind, data)` a channel-layer message delivers here, or None (nothing to deliver)."""
    if message.get("type") == ACCOUNT_EVENT:
        return "account_status", dict(message.get("account") or {})
    if message.get("type") != fanout.MESSAGE_TYPE:
        logger.warning("ignoring fan-out message of unknown type %r", message.get("type"))
        return None
    kind, data = message["kind"], message["data"]
    if kind == "sync":
        if message.get("origin") == fanout.PROCESS_ID:
            return None  # applied locally before the ack
        return kind, Change.from_message(data)
    return kind, data


async def listen(layer: Any, channel: str, deliver: Callable[[str, Any], None]) -> None:
    """Receive on `channel` until cancelled; each message's `(kind, data)` goes to `deliver`. A failed
    receive is retried after a second; a message that fails is logged and the next one read."""
    while True:
        try:
            message = await layer.receive(channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("fan-out receive failed; retrying")
            await asyncio.sleep(1.0)
            continue
        try:
            decoded = message_decode(message)
            if decoded is not None:
                deliver(*decoded)
        except Exception:
            logger.exception("fan-out message of type %s failed", message.get("type"))
