"""The platform's JSON APIs as the pages call them: signed, session-bound, with risk and rate-limit faults.

Status codes (see README.md): 0 ok; 8 用户未登录 (also answered to a logged-in session in `status_8`
risk mode, and `评论失败，请稍后重试` to a throttled comment reply); 2154 risk (bad signature, the page
risk modes); 2155 rate limited; an empty 200 body for unsigned calls and in `empty` risk mode; HTTP
403/429/461/471 with an empty body in the `http_<status>` risk modes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable
from typing import Any

from . import actions, render, signing
from .data import World
from .http import Request, Response, empty_response, json_response, redirect
from .qr import qr_image_url
from .render import id_decrypt
from .state import SESSION_COOKIE, SimState

LOGIN_REQUIRED = {"status_code": 8, "status_msg": "用户未登录"}
RISK = {"status_code": 2154, "status_msg": "当前访问存在风险，请完成验证后重试"}
RATE_LIMITED = {"status_code": 2155, "status_msg": "操作太频繁，请稍后再试"}

COMMENT_READ = "/web/api/third_party/aweme/api/comment/read/aweme/v1/web/comment"
COMMENT_BASE = f"{COMMENT_READ}/list"
ApiHandler = Callable[[SimState, World, Request], Response]


def _int(value: str | None, default: int, *, low: int = 0, high: int = 10**15) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


def api_gate(state: SimState, request: Request) -> World | Response:
    """Signature, then session, then risk mode, then rate limit; a World when the call may proceed."""
    verdict = signing.check(state.secret, request.path, request.query)
    if verdict == "unsigned":
        return empty_response()
    if verdict == "bad":
        return json_response(RISK)
    token = request.cookies.get(SESSION_COOKIE)
    world = state.session_account(token)
    if world is None or token is None:
        return json_response(LOGIN_REQUIRED)
    mode = state.risk_mode(world.owner["uid"])
    if mode == "empty":
        return empty_response()
    if mode == "status_8":  # the code a logged-out session gets, while the session is fine
        return json_response(LOGIN_REQUIRED)
    if mode and mode.startswith("http_"):
        return Response(status=int(mode[5:]), body=b"")
    if mode is not None:  # a verification page on the pages; the APIs refuse
        return json_response(RISK)
    if state.rate_limited(token):
        return json_response(RATE_LIMITED)
    return world


def _works_page(world: World, cursor: int, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(works newest first before `cursor` ms, the page of `count`)."""
    works = sorted(world.works, key=lambda w: w["create_time"], reverse=True)
    if cursor:
        works = [w for w in works if w["create_time"] * 1000 < cursor]
    return works, works[:count]


def work_list(state: SimState, world: World, request: Request) -> Response:
    count = _int(request.params.get("count"), 12, low=1, high=50)
    cursor = _int(request.params.get("max_cursor"), 0)
    works, page = _works_page(world, cursor, count)
    if "empty_works" in state.surface_of(world.owner["uid"]):
        works, page = [], []  # the list is empty while `total` still counts every work
    counts = [actions.comment_count(world, w["aweme_id"]) for w in page]
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "aweme_list": [render.work_item(world, w, n) for w, n in zip(page, counts, strict=True)],
            "items": [render.work_metrics(w, n) for w, n in zip(page, counts, strict=True)],
            "has_more": 1 if len(works) > count else 0,
            "max_cursor": page[-1]["create_time"] * 1000 if page else cursor,
            "total": len(world.works),
        }
    )


def item_list(state: SimState, world: World, request: Request) -> Response:
    """The comment page's work picker (`works_v2`, `comment_list_v2`) as captured:
    `{item_info_list, cursor (a string), has_more, total_count}`."""
    count = _int(request.params.get("count"), 12, low=1, high=50)
    works, page = _works_page(world, _int(request.params.get("cursor"), 0), count)
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "item_info_list": [
                render.work_info_item(w, actions.comment_count(world, w["aweme_id"])) for w in page
            ],
            "cursor": str(page[-1]["create_time"] * 1000 if page else 0),
            "has_more": len(works) > count,
            "total_count": len(world.works),
        }
    )


def _comment_info_page(world: World, cids: list[str], cursor: int, count: int, total: int) -> Response:
    page = [world.comments[cid] for cid in cids[cursor : cursor + count]]
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "comment_info_list": [
                render.comment_info(world, c, len(world.replies.get(c["cid"], []))) for c in page
            ],
            "cursor": cursor + len(page),
            "has_more": cursor + len(page) < len(cids),
            "total_count": total,
            "has_vcd_filter": False,
        }
    )


def comment_list_v2(state: SimState, world: World, request: Request) -> Response:
    """`/aweme/v1/creator/comment/list/?item_id=<encrypted>&sort=TIME` (`comment_list_v2`)."""
    aweme_id = id_decrypt(request.params.get("item_id", ""))
    _read_log(
        state, world, "comment_page_read", aweme_id=aweme_id, cursor=_int(request.params.get("cursor"), 0)
    )
    return _comment_info_page(
        world,
        world.top_level.get(aweme_id, []),
        _int(request.params.get("cursor"), 0),
        _int(request.params.get("count"), 20, low=1, high=50),
        actions.comment_count(world, aweme_id),
    )


def comment_reply_list_v2(state: SimState, world: World, request: Request) -> Response:
    """`/aweme/v1/creator/comment/reply/list/?comment_id=<encrypted>` (`comment_list_v2`)."""
    parent = id_decrypt(request.params.get("comment_id", ""))
    _read_log(
        state, world, "reply_page_read", comment_id=parent, cursor=_int(request.params.get("cursor"), 0)
    )
    cids = world.replies.get(parent, [])
    return _comment_info_page(
        world,
        cids,
        _int(request.params.get("cursor"), 0),
        _int(request.params.get("count"), 10, low=1, high=50),
        len(cids),
    )


def notice_detail(state: SimState, world: World, request: Request) -> Response:
    """Comment notifications (`notice`): fans' comments and replies, newest first, `cursor` = offset."""
    cursor = _int(request.params.get("cursor"), 0)
    count = _int(request.params.get("count"), 20, low=1, high=50)
    fans = actions.fan_comments(world)
    page = fans[cursor : cursor + count]
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "notice_list_v2": [render.notice_item(world, c) for c in page],
            "cursor": cursor + len(page),
            "has_more": 1 if cursor + len(page) < len(fans) else 0,
            "total": len(fans),
        }
    )


def _comment_page(
    state: SimState, world: World, cids: list[str], cursor: int, count: int, total: int
) -> Response:
    surface = state.surface_of(world.owner["uid"])
    if "empty_comments" in surface:
        cids = []  # the list is empty while `total` still counts every comment
    page = [world.comments[cid] for cid in cids[cursor : cursor + count]]
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "comments": [
                render.comment_item(world, c, len(world.replies.get(c["cid"], [])), surface) for c in page
            ],
            "cursor": cursor + len(page),
            "has_more": 1 if cursor + len(page) < len(cids) else 0,
            "total": total,
        }
    )


def _read_log(state: SimState, world: World, kind: str, **fields: Any) -> None:
    """Each comment or reply page served goes to the control log (`GET /__sim__/log`): tests count
    how much of a list a read fetched."""
    state.log_event(kind, uid=world.owner["uid"], **fields)


def comment_list(state: SimState, world: World, request: Request) -> Response:
    aweme_id = request.params.get("aweme_id", "")
    _read_log(
        state, world, "comment_page_read", aweme_id=aweme_id, cursor=_int(request.params.get("cursor"), 0)
    )
    cids = world.top_level.get(aweme_id, [])
    total = actions.comment_count(world, aweme_id)
    return _comment_page(
        state,
        world,
        cids,
        _int(request.params.get("cursor"), 0),
        _int(request.params.get("count"), 20, low=1, high=50),
        total,
    )


def comment_reply_list(state: SimState, world: World, request: Request) -> Response:
    _read_log(
        state,
        world,
        "reply_page_read",
        comment_id=request.params.get("comment_id", ""),
        cursor=_int(request.params.get("cursor"), 0),
    )
    cids = world.replies.get(request.params.get("comment_id", ""), [])
    return _comment_page(
        state,
        world,
        cids,
        _int(request.params.get("cursor"), 0),
        _int(request.params.get("count"), 10, low=1, high=50),
        len(cids),
    )


def comment_reply(state: SimState, world: World, request: Request) -> Response:
    """The 发送 of a comment editor; ids plain or encrypted. A slow-answers fault stores the reply at
    once and holds the answer back."""
    body = request.json()
    item_id = id_decrypt(str(body.get("item_id") or body.get("aweme_id") or ""))
    reply_id = id_decrypt(str(body.get("reply_id") or body.get("comment_id") or "0"))
    response = json_response(
        actions.comment_reply(
            state, world, item_id=item_id, reply_id=reply_id, text=str(body.get("text", ""))
        )
    )
    response.delay = state.faults.for_uid(state.faults.slow_answers, world.owner["uid"]) or 0.0
    return response


def user_detail(state: SimState, world: World, request: Request) -> Response:
    wanted = [uid for uid in request.params.get("user_ids", "").split(",") if uid in world.users]
    return json_response(
        {
            "status_code": 0,
            "status_msg": "",
            "user_list": [render.user_detail_entry(world, uid) for uid in wanted[:20]],
        }
    )


def im_conversation_list(state: SimState, world: World, request: Request) -> Response:
    cursor = _int(request.params.get("cursor"), 0)
    count = _int(request.params.get("count"), 30, low=1, high=100)
    ordered = sorted(
        world.conversations.values(),
        key=lambda c: c["messages"][-1]["created_ms"] if c["messages"] else 0,
        reverse=True,
    )
    page = ordered[cursor : cursor + count]
    return json_response(
        {
            "status_code": 0,
            "conversations": [
                render.conversation_props(world, c, state.surface_of(world.owner["uid"])) for c in page
            ],
            "cursor": cursor + len(page),
            "has_more": 1 if cursor + len(page) < len(ordered) else 0,
            "total": len(ordered),
        }
    )


def im_message_list(state: SimState, world: World, request: Request) -> Response:
    conversation = world.conversations.get(request.params.get("conversation_id", ""))
    if conversation is None:
        return json_response({"status_code": 7001, "status_msg": "会话不存在"})
    cursor = _int(request.params.get("cursor"), 0)  # messages already shown, counted from the newest
    count = _int(request.params.get("count"), 20, low=1, high=100)
    messages = conversation["messages"]
    end = max(0, len(messages) - cursor)
    page = messages[max(0, end - count) : end]
    if cursor == 0:
        conversation["unread"] = 0
    return json_response(
        {
            "status_code": 0,
            "messages": [render.message_props(world, m, state.surface_of(world.owner["uid"])) for m in page],
            "cursor": cursor + len(page),
            "has_more": 1 if end - len(page) > 0 else 0,
        }
    )


def im_message_send(state: SimState, world: World, request: Request) -> Response:
    body = request.json()
    result = actions.message_send(
        state, world, conversation_id=str(body.get("conversation_id", "")), text=str(body.get("text", ""))
    )
    response = json_response(result)
    response.delay = state.faults.for_uid(state.faults.slow_answers, world.owner["uid"]) or 0.0
    return response


PUSH_PATH = "/sim-im/v1/push"
PUSH_WAIT = 20.0  # seconds a push poll is held open when nothing is new


def push_event_render(world: World, event: dict[str, Any]) -> dict[str, Any]:
    if event["kind"] == "message":
        conversation = event["conversation"]
        return {
            "kind": "message",
            "message": render.store_message(world, event["message"]),
            "conversation": render.store_conversation(world, conversation),
            "user": render.store_user(world, conversation["peer_uid"]),
        }
    return dict(event)


async def im_push(state: SimState, request: Request) -> Response:
    """`GET /sim-im/v1/push?cursor=<n>` (sim; the real page has a frontier WebSocket): the chat page's
    long poll. `cursor=-1` answers at once with the store's first fill (newest conversations, their
    peers, self, the notice count) and the cursor to poll from; otherwise it waits (up to PUSH_WAIT s)
    for events after `cursor`. `reset: true` when events after it were already dropped."""
    gate = api_gate(state, request)
    if not isinstance(gate, World):
        return gate
    world = gate
    uid = world.owner["uid"]
    feed = state.push_feed(uid)
    cursor = _int(request.params.get("cursor"), -1, low=-1)
    if cursor < 0:
        ordered = sorted(
            world.conversations.values(),
            key=lambda c: c["messages"][-1]["created_ms"] if c["messages"] else 0,
            reverse=True,
        )[:30]
        return json_response(
            {
                "status_code": 0,
                "cursor": feed.seq,
                "conversations": [render.store_conversation(world, c) for c in ordered],
                "users": {c["peer_uid"]: render.store_user(world, c["peer_uid"]) for c in ordered},
                "self": render.store_user(world, uid),
                "notices": {"7": feed.notices},
            }
        )
    if feed.seq <= cursor:
        try:
            await asyncio.wait_for(feed.waiter().wait(), timeout=PUSH_WAIT)
        except TimeoutError:
            pass
    events, lost = feed.since(cursor)
    return json_response(
        {
            "status_code": 0,
            "cursor": feed.seq,
            "reset": lost,
            "events": [push_event_render(world, e) for e in events],
        }
    )


FRONTIER_PATH = "/sim-im/v1/frontier"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def push_frame(seq: int, payload: dict[str, Any]) -> bytes:
    """A binary frame shaped like the real socket's protobuf PushFrame (field 1 seqid, 4 method,
    7 payload_type, 8 payload: here gzipped JSON of the event): opaque to the worker, which only takes
    a frame as the sign that something arrived."""
    body = gzip.compress(json.dumps(payload, ensure_ascii=False).encode())
    method, kind = b"push", b"pb"
    return (
        b"\x08" + _varint(seq)
        + b"\x22" + _varint(len(method)) + method
        + b"\x3a" + _varint(len(kind)) + kind
        + b"\x42" + _varint(len(body)) + body
    )  # fmt: skip


async def frontier_socket(state: SimState, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`/sim-im/v1/frontier`: the chat page's IM WebSocket (the real page's frontier-im socket). The
    session cookie opens it (else closed 4401); every message pushed to the account afterwards goes out
    as one binary `push_frame`, as the long poll hands it to the page's store."""
    if (await receive())["type"] != "websocket.connect":
        return
    request = Request.from_scope({**scope, "method": "GET"}, b"")
    token = request.cookies.get(SESSION_COOKIE)
    world = state.session_account(token) if token else None
    if request.path != FRONTIER_PATH or world is None:
        await send({"type": "websocket.close", "code": 4401})
        return
    await send({"type": "websocket.accept"})
    feed = state.push_feed(world.owner["uid"])
    cursor, sent = feed.seq, 0
    gone = asyncio.ensure_future(receive())  # the next message from the page: its disconnect
    try:
        while True:
            wake = asyncio.ensure_future(feed.waiter().wait())
            done, _ = await asyncio.wait({wake, gone}, timeout=PUSH_WAIT, return_when=asyncio.FIRST_COMPLETED)
            wake.cancel()
            if gone in done:
                if gone.result()["type"] == "websocket.disconnect":
                    return
                gone = asyncio.ensure_future(receive())
            events, _lost = feed.since(cursor)
            cursor = feed.seq
            for event in (e for e in events if e["kind"] == "message"):
                sent += 1
                await send(
                    {"type": "websocket.send", "bytes": push_frame(sent, push_event_render(world, event))}
                )
    finally:
        gone.cancel()


API_ROUTES: dict[tuple[str, str], ApiHandler] = {
    ("GET", "/janus/douyin/creator/pc/work_list"): work_list,
    ("GET", f"{COMMENT_BASE}/select/"): comment_list,
    ("GET", f"{COMMENT_BASE}/reply/"): comment_reply_list,
    ("GET", f"{COMMENT_READ}/reply/list/"): comment_reply_list,  # reply_list_v2
    ("GET", "/aweme/v1/creator/item/list/"): item_list,  # works_v2, comment_list_v2 (the picker)
    ("GET", "/aweme/v1/creator/comment/list/"): comment_list_v2,  # comment_list_v2
    ("GET", "/aweme/v1/creator/comment/reply/list/"): comment_reply_list_v2,  # comment_list_v2
    ("GET", "/janus/douyin/creator/pc/work/list_next"): work_list,  # unknown (no adapter knows it)
    ("GET", "/aweme/v1/web/notice/detail/"): notice_detail,  # notice
    ("POST", "/aweme/v1/creator/comment/reply/"): comment_reply,
    ("GET", "/aweme/v1/creator/im/user_detail/"): user_detail,
    ("GET", "/sim-im/v1/conversation/list"): im_conversation_list,
    ("GET", "/sim-im/v1/message/list"): im_message_list,
    ("POST", "/sim-im/v1/message/send"): im_message_send,
}
# Paths the site answers with a 301 to the trailing-slash form (the query is kept).
SLASH_REDIRECTS = {
    "/aweme/v1/creator/im/user_detail",
    f"{COMMENT_BASE}/reply",
    f"{COMMENT_READ}/reply/list",
    "/aweme/v1/creator/item/list",
    "/aweme/v1/creator/comment/list",
    "/aweme/v1/creator/comment/reply/list",
}


def api_dispatch(state: SimState, request: Request) -> Response | None:
    """Answer an API request, or None when the path is not an API."""
    if request.path in SLASH_REDIRECTS:
        location = request.path + "/" + ("?" + request.query if request.query else "")
        return redirect(location, status=301)
    handler = API_ROUTES.get((request.method, request.path))
    if handler is None:
        return None
    gate = api_gate(state, request)
    if isinstance(gate, Response):
        return gate
    return handler(state, gate, request)


def passport_dispatch(state: SimState, request: Request) -> Response | None:
    """QR login endpoints (unsigned, no session): new ticket, and the status poll that sets the cookie."""
    if request.path == "/passport/web/get_qrcode/":
        fresh = state.ticket_create()
        png = "qr_data_png" in state.surface_of(None)
        return json_response(
            {
                "data": {"token": fresh.token, "qrcode": qr_image_url(fresh.token, png=png)},
                "message": "success",
            }
        )
    if request.path != "/passport/web/check_qrconnect/":
        return None
    ticket = state.tickets.get(request.params.get("token", ""))
    if ticket is None:
        return json_response({"data": {"status": "5"}, "message": "success"})
    status = {"new": "1", "scanned": "2", "confirmed": "3", "used": "5", "expired": "5"}[
        state.ticket_state(ticket)
    ]
    payload: dict[str, Any] = {"data": {"status": status}, "message": "success"}
    response = json_response(payload)
    if status == "3" and ticket.uid:
        ticket.state = "used"
        payload["data"]["redirect_url"] = "/creator-micro/home"
        response = json_response(payload)
        response.set_cookie(SESSION_COOKIE, state.session_create(uid=ticket.uid), max_age=30 * 86400)
    return response
