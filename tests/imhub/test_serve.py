"""The hub's server command: one place builds it; impossible set-ups are refused with the reason."""

from __future__ import annotations

import pytest

from imhub.serve import APPLICATION, ServeError, hub_command


def test_default_is_granian() -> None:
    # when
    argv = hub_command(port=8123, python="py", env={})
    # then
    assert argv[:5] == ["py", "-m", "granian", "--interface", "asgi"]
    assert argv[-1] == APPLICATION
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--loop") + 1] == "uvloop"
    assert "--workers" in argv and argv[argv.index("--workers") + 1] == "1"


def test_uvicorn_with_uvloop_and_httptools() -> None:
    # when
    argv = hub_command(port=8123, python="py", env={}, server="uvicorn")
    # then
    assert argv[:4] == ["py", "-m", "uvicorn", APPLICATION]
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--loop") + 1] == "uvloop"
    assert argv[argv.index("--http") + 1] == "httptools"
    assert argv[argv.index("--lifespan") + 1] == "on"
    assert "--workers" not in argv


def test_server_picked_by_environment_or_argument() -> None:
    assert hub_command(port=1, python="py", env={"IMHUB_SERVER": "daphne"}, server="daphne")[2] == "daphne"
    granian = hub_command(port=1, python="py", env={}, server="granian", processes=3, app="x:y")
    assert granian[2] == "granian" and granian[granian.index("--workers") + 1] == "3" and granian[-1] == "x:y"


def test_several_processes_need_redis() -> None:
    # given no REDIS_URL
    with pytest.raises(ServeError, match="REDIS_URL"):
        hub_command(port=1, processes=2, env={})
    # when Redis is configured
    argv = hub_command(port=1, processes=2, env={"REDIS_URL": "redis://127.0.0.1:6379/0"})
    # then the server's own workers share the port
    assert argv[argv.index("--workers") + 1] == "2"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"server": "gunicorn"}, "unknown server"),
        ({"processes": 0}, "at least 1"),
        (
            {"server": "daphne", "processes": 2, "env": {"REDIS_URL": "redis://x"}},
            "daphne serves one process",
        ),
    ],
)
def test_impossible_set_ups_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ServeError, match=message):
        hub_command(port=1, **{"env": {}, **kwargs})
