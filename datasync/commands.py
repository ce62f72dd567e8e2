"""Hub -> worker commands: the protocol frame of each `accounts.commands.WorkerCommand`, one function per
command, chosen by the command's name through the runtime's wiring (`command_frames`).

A command reaches the hub process that holds the worker's socket as a plain message (`as_message()`);
`command_frame` makes it the typed command again and builds the frame, which the WorkerConsumer sends.
"""

from __future__ import annotations

import logging
from typing import Any

from accounts.commands import AssignCommand, LoginStartCommand, ResyncCommand, RevokeCommand
from datasync.handlers import assignment_build
from datasync.protocol import BaseFrame, LoginStartFrame, ResyncFrame, TaskAssignFrame, TaskRevokeFrame
from datasync.runtime import runtime

logger = logging.getLogger(__name__)


def assign_frame(command: AssignCommand) -> TaskAssignFrame:
    """`master:task:assign`: the account's data and where its seq stands, read now."""
    from accounts.models import Account

    account = Account.objects.get(pk=command.account_id)
    return TaskAssignFrame.build(assignment=assignment_build(account=account))


def revoke_frame(command: RevokeCommand) -> TaskRevokeFrame:
    return TaskRevokeFrame.build(account_id=command.account_id, epoch=command.epoch)


def login_start_frame(command: LoginStartCommand) -> LoginStartFrame:
    return LoginStartFrame.build(session_id=command.session_id, account_id=command.account_id)


def resync_frame(command: ResyncCommand) -> ResyncFrame:
    return ResyncFrame.build(account_id=command.account_id)


def command_frame(*, message: dict[str, Any]) -> BaseFrame | None:
    """The hub frame for a worker command message, by the command's name; None (logged) for a name no
    wiring knows."""
    command_class = runtime.wiring.command_class(str(message.get("name")))
    if command_class is None:
        logger.error(
            "unknown worker command %r dropped: account_id=%s", message.get("name"), message.get("account_id")
        )
        return None
    builder = runtime.wiring.command_frames[command_class]
    return builder(command_class.from_message(message))  # type: ignore[no-any-return]
