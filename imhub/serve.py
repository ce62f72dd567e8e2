"""Serve the hub: the one place that builds the ASGI server's command line.

``python -m imhub.serve [--server uvicorn|granian|daphne] [--host H] [--port P] [--processes N]``
(``./run.sh hub`` runs it after migrating). Every server serves the same ``imhub.asgi:application``
(the IM read lane, Django, Channels' WebSockets); the demo, the e2e tests and the benchmarks start
the hub through ``hub_command`` too, so the server choice is made here only.

The default is granian (uvloop), the fastest of the three on our machines in a head-to-head run
(docs/benchmarks.md, "IM API", table C: ahead of uvicorn with uvloop + httptools by 5-50% on the read
routes and with a far shorter tail at 1,000 connections); all three pass the whole WebSocket suite.
Several processes share one port through the server's own workers (granian, uvicorn); each process
keeps its own DataStore replica fed by the channel-layer fan-out, so more than one needs
``REDIS_URL`` (the in-memory layer cannot reach another process). daphne serves one process.
"""

from __future__ import annotations

import argparse
import os
import sys

SERVERS = ("uvicorn", "granian", "daphne")
# The largest WebSocket message the server hands to the hub (uvicorn's own default is 16 MiB, closed
# with 1009 before the app sees it): as large as granian's message limit, so a frame over
# IMHUB_MAX_FRAME_BYTES reaches the worker consumer and is answered with `frame_too_large`.
WS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
APPLICATION = "imhub.asgi:application"


class ServeError(ValueError):
    """A server set-up that cannot work (unknown server, several processes without Redis)."""


def hub_server() -> str:
    """The server to use: the ``IMHUB_SERVER`` setting."""
    from django.conf import settings

    return str(settings.IMHUB_SERVER)


def hub_command(
    *,
    port: int,
    host: str = "127.0.0.1",
    server: str | None = None,
    processes: int = 1,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    app: str = APPLICATION,
) -> list[str]:
    """The argv that serves the hub (or, for benchmarks, ``app``) on ``host:port`` with ``server``;
    ``env``: the environment the server will run with (default: this process's settings)."""
    from django.conf import settings

    server = server or hub_server()
    redis_url = settings.REDIS_URL if env is None else env.get("REDIS_URL", "")
    if server not in SERVERS:
        raise ServeError(f"unknown server {server!r}; choose one of {', '.join(SERVERS)}")
    if processes < 1:
        raise ServeError("--processes must be at least 1")
    if processes > 1 and app == APPLICATION and not redis_url:
        raise ServeError(
            "several hub processes need REDIS_URL (channels-redis): the in-memory channel layer "
            "cannot carry the fan-out between processes"
        )
    if server == "daphne":
        if processes > 1:
            raise ServeError("daphne serves one process; use --server uvicorn or granian for several")
        return [python, "-m", "daphne", "-b", host, "-p", str(port), app]
    if server == "granian":
        return [
            python, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port),
            "--workers", str(processes), "--loop", "uvloop", "--log-level", "warning", "--respawn-failed-workers", app,
        ]  # fmt: skip
    return [
        python, "-m", "uvicorn", app, "--host", host, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--ws", "websockets", "--ws-max-size", str(WS_MAX_MESSAGE_BYTES), "--lifespan", "on",
        "--no-access-log", "--log-level", "warning", "--backlog", "4096",
        *(["--workers", str(processes)] if processes > 1 else []),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
    from django.conf import settings

    parser = argparse.ArgumentParser(prog="python -m imhub.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=SERVERS, default=hub_server())
    parser.add_argument("--host", default=settings.HOST)
    parser.add_argument("--port", type=int, default=settings.PORT)
    parser.add_argument("--processes", type=int, default=settings.IMHUB_PROCESSES)
    parser.add_argument("--app", default=APPLICATION, help=argparse.SUPPRESS)  # benchmarks: another app
    args = parser.parse_args(argv)
    try:
        argv_out = hub_command(
            port=args.port, host=args.host, server=args.server, processes=args.processes, app=args.app
        )
    except ServeError as exc:
        parser.error(str(exc))
    print(f"[imhub.serve] {args.server} on {args.host}:{args.port}, {args.processes} process(es)", flush=True)
    os.execv(argv_out[0], argv_out)


if __name__ == "__main__":
    main()
