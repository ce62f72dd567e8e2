"""Control and ground truth under `/__sim__/` (JSON, no session, never on the real site).

Each handler parses its input, calls one function of `state`/`actions`, and answers JSON. Errors are
`SimError(status, message)` -> `{"error": message}` with that HTTP status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import actions
from .http import Request, Response, json_response
from .state import RISK_MODES, SESSION_COOKIE, SimError, SimState, Ticket
from .surface import surface_name, surface_parse

ControlHandler = Callable[..., Any]


def _uid(body: dict[str, Any], *, required: bool = True) -> str | None:
    uid = body.get("uid")
    if uid is None:
        if required:
            raise SimError(400, "uid is required")
        return None
    return str(uid)


def _ticket(state: SimState, ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.token,
        "created": ticket.created,
        "state": state.ticket_state(ticket),
        "uid": ticket.uid,
    }


def health(state: SimState, request: Request) -> Any:
    return {"ok": True, "accounts": len(state.worlds), "seed": state.config.seed}


def accounts_list(state: SimState, request: Request) -> Any:
    return {"accounts": [actions.account_summary(w) for w in state.worlds.values()]}


def account_truth(state: SimState, request: Request, uid: str) -> Any:
    return actions.truth(
        state.world(uid), full=request.params.get("full") in ("1", "true"), surface=state.surface_of(uid)
    )


def qr_tickets(state: SimState, request: Request) -> Any:
    tickets = sorted(state.tickets.values(), key=lambda t: t.created, reverse=True)
    if request.params.get("pending") in ("1", "true"):
        tickets = [t for t in tickets if state.ticket_state(t) in ("new", "scanned")]
    return {"tickets": [_ticket(state, t) for t in tickets]}


def qr_scan(state: SimState, request: Request, token: str) -> Any:
    return _ticket(state, state.ticket_scan(token=token, uid=_uid(request.json()) or ""))


def qr_confirm(state: SimState, request: Request, token: str) -> Any:
    return _ticket(state, state.ticket_confirm(token=token, uid=_uid(request.json(), required=False)))


def qr_confirm_newest(state: SimState, request: Request) -> Any:
    uid = _uid(request.json()) or ""
    ticket = state.ticket_newest_pending()
    return _ticket(
        state, state.ticket_confirm(token=ticket.token, uid=uid if ticket.state == "new" else None)
    )


def session_create(state: SimState, request: Request) -> Any:
    token = state.session_create(uid=_uid(request.json()) or "")
    return {
        "cookie": {
            "name": SESSION_COOKIE,
            "value": token,
            "domain": request.host,
            "path": "/",
            "httpOnly": True,
            "sameSite": "Lax",
        }
    }


def sessions_expire(state: SimState, request: Request) -> Any:
    return {"expired": state.sessions_expire(uid=_uid(request.json(), required=False))}


def inject_comment(state: SimState, request: Request) -> Any:
    body = request.json()
    world = state.world(_uid(body) or "")
    return actions.comment_inject(
        state,
        world,
        aweme_id=body.get("aweme_id"),
        reply_to=body.get("reply_to"),
        text=body.get("text"),
        media=body.get("media"),
    )


def inject_message(state: SimState, request: Request) -> Any:
    body = request.json()
    world = state.world(_uid(body) or "")
    return actions.message_inject(
        state,
        world,
        conversation_id=body.get("conversation_id"),
        text=body.get("text"),
        media=body.get("media"),
    )


def push_navigate(state: SimState, request: Request) -> Any:
    """Make the account's open chat pages navigate away (`to`, default the home page), as a page the
    platform reloads or redirects would: a listener hooked into it must notice and re-install."""
    body = request.json()
    uid = state.world(_uid(body) or "").owner["uid"]
    to = str(body.get("to") or "/creator-micro/home")
    if not to.startswith("/"):
        raise SimError(400, "to must be a path on this site")
    state.push_add(uid, {"kind": "navigate", "to": to})
    return {"navigate": to}


def live_set(state: SimState, request: Request) -> Any:
    rate = request.json().get("rate")
    if not isinstance(rate, int | float):
        raise SimError(400, "rate (items per minute per account) is required")
    actions.live_set(state, rate=float(rate))
    return {"rate": state.live_rate}


def fault_rate_limit(state: SimState, request: Request) -> Any:
    per_minute = request.json().get("per_minute")
    if not isinstance(per_minute, int) or per_minute < 0:
        raise SimError(400, "per_minute (int >= 0) is required")
    state.faults.rate_limit = per_minute
    state.rate_windows.clear()
    return {"per_minute": per_minute}


def fault_risk(state: SimState, request: Request) -> Any:
    body = request.json()
    mode = body.get("mode")
    if mode not in (*RISK_MODES, "off"):
        raise SimError(400, f"mode must be one of {', '.join(RISK_MODES)} or off")
    key = _uid(body, required=False) or "*"
    if mode == "off":
        state.faults.risk.pop(key, None)
    else:
        state.faults.risk[key] = mode
    return {"risk": state.faults.risk}


def fault_refuse_replies(state: SimState, request: Request) -> Any:
    body = request.json()
    ids = body.get("aweme_ids")
    if not isinstance(ids, list):
        raise SimError(400, "aweme_ids (list) is required")
    reason = str(body.get("reason") or actions.REFUSED_DEFAULT)
    for aweme_id in ids:
        state.faults.refuse[str(aweme_id)] = reason
    return {"refused": state.faults.refuse}


def fault_dm_fail(state: SimState, request: Request) -> Any:
    body = request.json()
    key = _uid(body, required=False) or "*"
    if body.get("enabled", True):
        state.faults.dm_fail.add(key)
    else:
        state.faults.dm_fail.discard(key)
    return {"dm_fail": sorted(state.faults.dm_fail)}


def fault_reply_throttle(state: SimState, request: Request) -> Any:
    body = request.json()
    key = _uid(body, required=False) or "*"
    if body.get("enabled", True):
        state.faults.reply_throttle.add(key)
    else:
        state.faults.reply_throttle.discard(key)
    return {"reply_throttle": sorted(state.faults.reply_throttle)}


def fault_slow_answers(state: SimState, request: Request) -> Any:
    body = request.json()
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 300:
        raise SimError(400, "seconds (0 to 300; 0 = off) is required")
    key = _uid(body, required=False) or "*"
    if seconds:
        state.faults.slow_answers[key] = float(seconds)
    else:
        state.faults.slow_answers.pop(key, None)
    return {"slow_answers": state.faults.slow_answers}


def faults_reset(state: SimState, request: Request) -> Any:
    state.faults = type(state.faults)()
    state.rate_windows.clear()
    return {"ok": True}


def surfaces_list(state: SimState) -> dict[str, str]:
    return {key: surface_name(value) for key, value in state.surfaces.items()}


def surface_get(state: SimState, request: Request) -> Any:
    return {"surface": surfaces_list(state)}


def surface_set(state: SimState, request: Request) -> Any:
    body = request.json()
    try:
        surface = surface_parse(body.get("surface", "default"))
    except ValueError as exc:
        raise SimError(400, str(exc)) from None
    uid = _uid(body, required=False)
    if uid is not None:
        state.world(uid)
    state.surfaces[uid or "*"] = surface
    return {"surface": surfaces_list(state)}


def log_list(state: SimState, request: Request) -> Any:
    return {"log": list(state.log)}


ROUTES: list[tuple[str, re.Pattern[str], ControlHandler]] = [
    ("GET", re.compile(r"/__sim__/health"), health),
    ("GET", re.compile(r"/__sim__/accounts"), accounts_list),
    ("GET", re.compile(r"/__sim__/accounts/(\d+)/truth"), account_truth),
    ("GET", re.compile(r"/__sim__/qr/tickets"), qr_tickets),
    ("POST", re.compile(r"/__sim__/qr/confirm-newest"), qr_confirm_newest),
    ("POST", re.compile(r"/__sim__/qr/([0-9a-f]+)/scan"), qr_scan),
    ("POST", re.compile(r"/__sim__/qr/([0-9a-f]+)/confirm"), qr_confirm),
    ("POST", re.compile(r"/__sim__/sessions"), session_create),
    ("POST", re.compile(r"/__sim__/sessions/expire"), sessions_expire),
    ("POST", re.compile(r"/__sim__/inject/comment"), inject_comment),
    ("POST", re.compile(r"/__sim__/inject/message"), inject_message),
    ("POST", re.compile(r"/__sim__/live"), live_set),
    ("POST", re.compile(r"/__sim__/push/navigate"), push_navigate),
    ("POST", re.compile(r"/__sim__/faults/rate-limit"), fault_rate_limit),
    ("POST", re.compile(r"/__sim__/faults/risk"), fault_risk),
    ("POST", re.compile(r"/__sim__/faults/refuse-replies"), fault_refuse_replies),
    ("POST", re.compile(r"/__sim__/faults/dm-fail"), fault_dm_fail),
    ("POST", re.compile(r"/__sim__/faults/reply-throttle"), fault_reply_throttle),
    ("POST", re.compile(r"/__sim__/faults/slow-answers"), fault_slow_answers),
    ("POST", re.compile(r"/__sim__/faults/reset"), faults_reset),
    ("GET", re.compile(r"/__sim__/log"), log_list),
    ("GET", re.compile(r"/__sim__/surface"), surface_get),
    ("POST", re.compile(r"/__sim__/surface"), surface_set),
]


def control_dispatch(state: SimState, request: Request) -> Response:
    path = request.path.rstrip("/")
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and method == request.method:
            try:
                return json_response(handler(state, request, *match.groups()))
            except SimError as exc:
                return json_response({"error": exc.message}, status=exc.status)
    return json_response({"error": f"no control route {request.method} {request.path}"}, status=404)
