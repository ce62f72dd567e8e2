"""Local Douyin creator-center simulator: pages, signed JSON APIs, QR login, faults, ground truth.

`create_app(SimConfig(...))` returns a plain ASGI application; `manage.py runsimulator douyin` serves it.
See README.md in this package for every page, API, control endpoint and fiber-prop shape.
"""

from .app import SimulatorApp, create_app
from .data import Sizes
from .state import SimConfig

__all__ = ["SimConfig", "SimulatorApp", "Sizes", "create_app"]
