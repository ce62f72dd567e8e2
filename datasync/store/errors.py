"""The store's error types; the API edge turns them into 400 / 404 responses."""

from __future__ import annotations


class StoreQueryError(ValueError):
    """A query parameter the store cannot answer (bad cursor, unknown ordering...)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class StoreNotFound(LookupError):
    """The account, conversation, work or comment is not in the store."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident!r} not found")
        self.what = what
        self.ident = ident
