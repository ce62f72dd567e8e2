"""Assignment, worker lifecycle, account status and QR login: the only functions other modules call.

Rules (docs/architecture.md, "accounts"):
- active accounts go to online workers that have capacity and the platform, least loaded first;
- every new assignment of an account (first one, or a move) bumps its `epoch`;
- taking an account away sends `revoke` (with the epoch it held) to the old holder, giving one sends
  `assign` to the new holder, except for the accounts `worker_connect` returns (they go in the ack);
- a worker silent for 3 heartbeat intervals goes offline and its accounts are reassigned.

Modules: `core` (errors, locks, the assignment step), `workers`, `account`, `login`.
"""

from accounts.services.account import (
    account_assignment_data,
    account_create,
    account_delete,
    account_holder_check,
    account_holder_verify,
    account_pause,
    account_reassign,
    account_record_status,
    account_request_resync,
    account_resume,
    account_saved,
    account_update,
    account_writable,
    accounts_visible_to,
    accounts_writable_ids,
)
from accounts.services.core import (
    SILENT_HEARTBEATS,
    AccountNotHeld,
    AccountsError,
    accounts_rebalance,
    worker_effective_capacity,
)
from accounts.services.login import (
    login_session_refresh,
    login_session_update,
    login_sessions_expire,
    login_start,
)
from accounts.services.workers import (
    worker_authenticate,
    worker_connect,
    worker_connection_claim,
    worker_connection_holder,
    worker_connection_refused,
    worker_connection_release,
    worker_create,
    worker_disconnect,
    worker_heartbeat,
    worker_token_regenerate,
    worker_token_revoke,
    worker_update,
    workers_expire_silent,
)

__all__ = [
    "SILENT_HEARTBEATS",
    "AccountNotHeld",
    "AccountsError",
    "account_assignment_data",
    "account_create",
    "account_delete",
    "account_holder_check",
    "account_holder_verify",
    "account_pause",
    "account_reassign",
    "account_record_status",
    "account_request_resync",
    "account_resume",
    "account_saved",
    "account_update",
    "account_writable",
    "accounts_rebalance",
    "accounts_visible_to",
    "accounts_writable_ids",
    "login_session_refresh",
    "login_session_update",
    "login_sessions_expire",
    "login_start",
    "worker_authenticate",
    "worker_connect",
    "worker_connection_claim",
    "worker_connection_holder",
    "worker_connection_refused",
    "worker_connection_release",
    "worker_create",
    "worker_disconnect",
    "worker_effective_capacity",
    "worker_heartbeat",
    "worker_token_regenerate",
    "worker_token_revoke",
    "worker_update",
    "workers_expire_silent",
]
