"""Datasync: wire protocol, worker and agent WebSockets, DataStore, persistence and the IM API."""
