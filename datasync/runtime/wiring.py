"""`Wiring`: everything one hub process runs besides serving requests, listed in one place.

Each part of the hub lists its own (`datasync/wiring.py` for the sync core, `datasync/im/wiring.py` for
the IM app); the project composes them (`imhub/wiring.py`, `wiring_compose`) and builds this process's
runtime with the result. Nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.commands import WorkerCommand
from datasync import fanout
from datasync.protocol import WORKER_FRAMES

Loader = Callable[[Any], None]
# `sync` handlers get an `Applied` (the change and what was new to this store); other kinds their data
FanoutHandler = Callable[[Any], None]
FrameHandler = Callable[..., Any]


@dataclass(frozen=True)
class Wiring:
    """Everything one hub process runs besides serving requests, listed in one place.

    - `frame_handlers`: worker frame type -> `fn(*, session, frame) -> Outcome` (one per type);
    - `frame_preparers`: worker frame type -> `fn(frame) -> prepared`: CPU work done ahead of the
      handler, with no database and no effect; the handler gets it as `prepared`;
    - `command_frames`: worker command class -> `fn(command) -> hub frame` for the worker (one per
      command name; `accounts.commands.WorkerCommand`);
    - `fanout_handlers`: fan-out kind -> `fn(data)` run in this process for each message of that kind;
    - `loaders`: `fn(store)` run in a thread during start-up, after the entity rows are loaded;
    - `periodic`: `(fn, interval)`: sync `fn()` in a thread every `interval` seconds once started.
    """

    frame_handlers: Mapping[str, FrameHandler] = field(default_factory=dict)
    fanout_handlers: Mapping[str, tuple[FanoutHandler, ...]] = field(default_factory=dict)
    frame_preparers: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    command_frames: Mapping[type[WorkerCommand], Callable[[Any], Any]] = field(default_factory=dict)
    loaders: tuple[Loader, ...] = ()
    periodic: tuple[tuple[Callable[[], Any], float], ...] = ()

    def check(self) -> None:
        """Refuse a wiring that names a frame type or fan-out kind nobody sends."""
        worker_types = {cls.TYPE for cls in WORKER_FRAMES}
        unknown = sorted(set(self.frame_handlers) - worker_types)
        if unknown:
            raise ValueError(f"no worker frame of type {', '.join(unknown)}")
        unprepared = sorted(set(self.frame_preparers) - set(self.frame_handlers))
        if unprepared:
            raise ValueError(f"a preparer but no handler of worker frame {', '.join(unprepared)}")
        kinds = sorted(set(self.fanout_handlers) - set(fanout.KINDS))
        if kinds:
            raise ValueError(f"unknown fan-out kind {', '.join(kinds)}; known: {', '.join(fanout.KINDS)}")
        names = [command.NAME for command in self.command_frames]
        if not all(names) or len(set(names)) != len(names):
            raise ValueError(f"worker commands need one class per name: {sorted(names)}")

    def command_class(self, name: str) -> type[WorkerCommand] | None:
        """The worker command class called ``name`` (dispatch by name), or None."""
        return next((command for command in self.command_frames if name == command.NAME), None)


def wiring_compose(*parts: Wiring) -> Wiring:
    """One wiring of several (the core's, each app's), in the order given: a frame type has one
    handler in all (a second one is refused); a fan-out kind runs every part's handlers; loaders
    and periodic jobs run in order."""
    frame_handlers: dict[str, FrameHandler] = {}
    fanout_handlers: dict[str, tuple[FanoutHandler, ...]] = {}
    preparers: dict[str, Callable[[Any], Any]] = {}
    commands: dict[type[WorkerCommand], Callable[[Any], Any]] = {}
    for part in parts:
        for frame_type, handler in part.frame_handlers.items():
            if frame_type in frame_handlers:
                raise ValueError(f"two handlers of worker frame {frame_type}")
            frame_handlers[frame_type] = handler
        for kind, handlers in part.fanout_handlers.items():
            fanout_handlers[kind] = (*fanout_handlers.get(kind, ()), *handlers)
        preparers.update(part.frame_preparers)
        commands.update(part.command_frames)
    return Wiring(
        frame_handlers=frame_handlers,
        fanout_handlers=fanout_handlers,
        frame_preparers=preparers,
        command_frames=commands,
        loaders=tuple(loader for part in parts for loader in part.loaders),
        periodic=tuple(job for part in parts for job in part.periodic),
    )
