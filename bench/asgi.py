"""ASGI entry of a benchmark's hub process: the production hub (`imhub.asgi`) whose DataStore is also
filled with the synthetic dataset at start (`IMHUB_BENCH_DATASET`, `bench/data.py`).

Served by the API and inbox benchmarks (`imhub.processes.hub_command(app="bench.asgi:application")`);
a production hub never loads this module, so nothing of the benchmark is wired there.
"""

from __future__ import annotations

from imhub.asgi import application  # first: it sets Django up

# isort: split
from bench.data import bench_dataset_loader
from datasync.desk.activity import desk_load
from datasync.runtime import Wiring, runtime, wiring_compose
from imhub.wiring import hub_wiring

# after the hub's own loaders (the database's rows, read marks): the synthetic items, then the desk's
# queue again over them
runtime.build(wiring_compose(hub_wiring(), Wiring(loaders=(bench_dataset_loader, desk_load))))

__all__ = ["application"]
