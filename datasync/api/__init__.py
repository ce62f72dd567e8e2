"""HTTP API of datasync: the stats endpoint and the IM API (DRF)."""
