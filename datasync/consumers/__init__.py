"""WebSocket consumers of the hub: one module per consumer (worker.py: WorkerConsumer at /ws/worker/)."""

from datasync.consumers.worker import WorkerConsumer

__all__ = ["WorkerConsumer"]
