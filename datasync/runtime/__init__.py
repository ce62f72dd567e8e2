"""Per-process hub runtime: the DataStore replica, its start-up load, the fan-out listener, periodic jobs.

What a process runs is given once, as a `Wiring` (`wiring.py`: frame handlers, preparers, worker
commands, fan-out handlers, loaders, periodic jobs): `ImhubConfig.ready()` calls
`runtime.build(hub_wiring())` (`imhub/wiring.py`, the core's wiring composed with the IM app's); no
module registers anything on import.

Start-up (the same code path under the in-memory and the Redis channel layer; `process.py`):
1. join the fan-out group (and `accounts.commands.ACCOUNTS_GROUP`) with a raw channel, listening at
   once (`listener.py`);
2. buffer every message while loading;
3. load: each account's (last_seq, revision) from SyncState, then each account's items, from the
   start-up snapshot where it is at the database's revision, else from the Entity rows
   (datasync/snapshot.py), then the wiring's loaders (the IM app's read marks);
4. replay the buffer: `sync` changes the load did not cover, all other kinds (`replay.py`);
5. dispatch live; a skipped seq reloads its account from the database (`gaps.py`).
Started by `runtime_asgi_wrapper` (`lifespan.py`) at the ASGI lifespan's start-up, or on the first
HTTP request or WebSocket connection. Periodic jobs run in threads (`threads.py`). HTTP code that
reads the store waits for `runtime.ensure_ready()` (async) or `runtime.wait_ready()` (sync threads).
An applied change goes out one way, `runtime.change_publish`: this process's store at once, then the group.
"""

from datasync.runtime.lifespan import runtime_asgi_wrapper
from datasync.runtime.process import Runtime, runtime
from datasync.runtime.wiring import Wiring, wiring_compose

__all__ = ["Runtime", "Wiring", "runtime", "runtime_asgi_wrapper", "wiring_compose"]
