"""Benchmarks of imhub: tooling outside the product, free to import everything (`python -m bench <name>`).

Nothing here is installed with the product, loaded by a hub or routed: a benchmark that needs a special
serving process gets its own ASGI entry (`asgi.py`: the production hub plus the synthetic dataset;
`ceiling.py`: a raw ASGI app). Processes are launched through `imhub.processes`, memory is read by
`crawler.stats`, Chromium is found and flagged by `crawler.browser_path`: no copies.

- `api`: the IM API under wrk against a synthetic 1,000,000-item store, as a ratio to a raw-ASGI ceiling
  (`api.py`, `service.py` for the in-process CPU time per request, `ceiling.py`, `data.py`).
- `ingest`: items/s durably applied and acked from a worker socket; store memory (`ingest.py`).
- `startup`: seconds before a hub over N stored items serves, cold and from the snapshot (`startup.py`).
- `soak`: the whole system under steady load for a bounded time (`soak.py`).
- `inbox`: the inbox page in real Chromium on the synthetic store (`inbox.py`).
- `assignment`: the assignment service's rebalance, expiry and failover (`commands/assignment.py`).
- `crawler`: a worker's first full crawl and its memory per account count (`crawler.py`).
"""
