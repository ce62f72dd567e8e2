"""Crawler worker: runtime, browser pool, platform adapters and platform simulators.

Imports only `datasync.protocol` from the hub side: a worker talks to the hub over the wire.
"""
