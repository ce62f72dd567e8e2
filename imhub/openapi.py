"""The OpenAPI schema's error answers: every operation documents the errors the hub can give it.

drf-spectacular documents the success answers each view declares; the errors come from shared layers
(authentication, login throttling, the IM error handler, DRF's validation, the database guard), so they
are added here, per operation, from what the operation takes:
- 401/403 everywhere (no or bad credentials; a read-only role, a staff-only route), 429 (login
  throttling on token auth), 503 (`database_unavailable`, the DataStore still loading);
- 400 where the operation takes query parameters or a body;
- 404 everywhere (a path id or an account that does not exist or is not visible; a staff-only desk
  route asked by someone else);
- 409 on writes (`confirm_required`, `answered_since`, a state that forbids the action).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "`{error, detail, param?}` from the IM and desk APIs; DRF's `{detail}` or "
    "`{field: [messages]}` from the management API.",
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. invalid_parameter, not_found."},
        "detail": {"description": "What went wrong, for people."},
        "param": {"type": "string", "description": "The parameter at fault (400)."},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    "400": "A parameter or the body is refused (`invalid_parameter`, naming `param`).",
    "401": "No credentials, or credentials the hub does not accept.",
    "403": "Not allowed: a read-only role on the account, or a route for staff only.",
    "404": "No such object, or one the user may not see (indistinguishable).",
    "409": "The action conflicts with the current state (e.g. `confirm_required`, `answered_since`).",
    "429": "Too many failed logins from this source (`Retry-After` says when to try again).",
    "503": "The database is unavailable or the DataStore is still loading; retry shortly.",
}
WRITES = {"post", "put", "patch", "delete"}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    params = operation.get("parameters") or []
    # 404: a path id or an account that does not exist or is not visible, or a staff-only route asked by
    # someone else (indistinguishable from none)
    codes = ["401", "403", "404", "429", "503"]
    if params or operation.get("requestBody"):
        codes.append("400")
    if method in WRITES:
        codes.append("409")
    return codes


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the documented error answers to every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/Error"}
    for path, item in (result.get("paths") or {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in _codes(path, method, operation):
                operation["responses"].setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
