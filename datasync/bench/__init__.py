"""Benchmarks of the hub (tools, not product code), driven by the ``bench_*`` management commands.

- ``ingest``: items/s durably applied and acked from a worker socket; store memory; start-up load.
- ``api``: the IM API under wrk against a synthetic 1,000,000-item store.
- ``data``: the deterministic synthetic dataset a benchmark hub process fills its store with.
"""
