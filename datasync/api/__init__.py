"""HTTP API of the sync core: the operator's stats endpoint (the agents' IM API is `datasync.im.api`)."""
