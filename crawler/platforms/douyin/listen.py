"""Douyin push listener: a resident chat page whose own IM store hands each new message out at once.

The page keeps an IM store (MobX on the real site): `imStore` with `converSationListOrigin`,
`conversationMap`, `userInfoFromServerMap`, `selfInfo` and the observable array `msgListToPush`, into
which the page splices every message the platform pushes; `noticeStore.noticeUnreadCountMap["7"]` counts
unread comment notices. Both hang on the props of a component above `[data-e2e="im-entry"]`, found by
walking the React fiber's `.return` chain. The hook (`HOOK_JS`) wraps the array's `splice`/`push`, polls
each conversation's last message once a second as a fallback, watches the notice count (and then fetches
the notice list from inside the page, which signs its own calls), and heartbeats. It copies fields one by
one: the store's objects are cyclic.

Which page holds the store, and where, are locators with fallbacks (`LISTEN_PAGES`, `IM_ENTRY_SELECTORS`,
`IM_STORE_KEYS`). When none yields a store but the page opened its IM WebSocket (the frontier-im socket,
`IM_SOCKET_URLS`), the page stays as a frame tap: each frame the page receives is a `frame` event that
makes the runner read the changed conversations at once (incremental), without decoding the frame (the
socket carries protobuf whose schema is not ours to guess); the missing store is still a surface-change
note. When there is neither, `listen_open` raises SurfaceChanged with a sample and the account polls.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import BrowserContext, Page, WebSocket

from crawler.errors import SurfaceChanged
from crawler.platforms import Batch, DriftNote
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.site import Site, page_state_check
from datasync.protocol import Conversation, Message, Notification, Person

logger = logging.getLogger("crawler.douyin.listen")

LISTEN_PAGES = (L.CHAT_PATH,)  # pages that may hold the IM store, tried in order
IM_ENTRY_SELECTORS = ('[data-e2e="im-entry"]', '[data-e2e*="im-entry"]', '[class*="im-entry"]')
IM_STORE_KEYS = ("imStore", "IMStore", "im_store")
STORE_WAIT_MS = 15000  # how long the store may take to appear after the page loaded
BEAT_MS = 5000  # the hook's heartbeat
BINDING = "__imhubListen"
# The page's IM WebSocket (frontier-im on the real site), by URL, tried in order.
IM_SOCKET_URLS = (re.compile(r"frontier-im|/sim-im/v1/frontier"), re.compile(r"frontier|/ws/v\d/im"))

# A frame tap's page: only the heartbeat (the watchdog re-installs a page that crashed or went silent).
BEAT_JS = r"""
(opts) => {
  if (window.__imhubListenInstalled) return true;
  setInterval(() => window[opts.binding]({ kind: "beat", at: Date.now() }), opts.beatMs);
  window.__imhubListenInstalled = true;
  return true;
}
"""

HOOK_JS = r"""
async (opts) => {
  if (window.__imhubListenInstalled) return { ok: true, again: true };
  const fiberOf = (node) => {
    const name = Object.keys(node).find((k) => k.indexOf("__reactFiber$") === 0);
    return name ? node[name] : null;
  };
  const findStore = () => {
    for (const sel of opts.entries) {
      for (const node of Array.from(document.querySelectorAll(sel))) {
        let f = fiberOf(node);
        for (let i = 0; f && i < 25; i++, f = f.return) {
          const sources = [f.memoizedProps, f.memoizedState, f.stateNode && f.stateNode.props];
          for (const src of sources) {
            if (!src || typeof src !== "object") continue;
            for (const key of opts.keys) {
              if (src[key] && typeof src[key] === "object" && src[key].msgListToPush) {
                return { im: src[key], notice: src.noticeStore || null, locator: sel + " -> " + key };
              }
            }
          }
        }
      }
    }
    return null;
  };
  const started = Date.now();
  let found = findStore();
  while (!found && Date.now() - started < opts.waitMs) {
    await new Promise((r) => setTimeout(r, 200));
    found = findStore();
  }
  if (!found) {
    const entries = opts.entries.map((sel) => [sel, document.querySelectorAll(sel).length]);
    const propKeys = [];
    for (const sel of opts.entries) {
      const node = document.querySelector(sel);
      let f = node && fiberOf(node);
      for (let i = 0; f && i < 25; i++, f = f.return) {
        if (f.memoizedProps && typeof f.memoizedProps === "object") propKeys.push(Object.keys(f.memoizedProps).slice(0, 20));
      }
      if (propKeys.length) break;
    }
    return { ok: false, entries, propKeys };
  }
  const st = found.im;
  const str = (v) => (v === null || v === undefined ? "" : String(v));
  const plainMessage = (m) => {
    let content = m.content;
    if (content && typeof content === "object") {
      const c = {};
      for (const k of ["text", "aweType", "url", "static_url", "resource_url", "itemId", "item_id", "cover_url",
                       "width", "height", "duration"]) {
        if (content[k] !== undefined) c[k] = JSON.parse(JSON.stringify(content[k]));
      }
      content = c;
    }
    return {
      serverId: str(m.serverId), conversationId: str(m.conversationId),
      conversationShortId: str(m.conversationShortId), type: m.type, aweType: m.aweType,
      content: content === undefined ? "" : content, sender: str(m.sender), secSender: str(m.secSender),
      isFromMe: !!m.isFromMe, createdAt: m.createdAt, createdTime: m.createdTime, timestamp: m.timestamp,
    };
  };
  const conversationOf = (id) => {
    const c = (st.conversationMap && st.conversationMap[id]) ||
      (st.converSationListOrigin || []).find((x) => x && x.id === id);
    if (!c) return null;
    const parts = ((c.firstPageParticipant || {}).participants || []).map((p) => ({
      uid: str(p.uid || p.user_id), sec_uid: str(p.sec_uid || p.secUid), nick_name: str(p.nick_name || p.nickname),
    }));
    const core = (c.coreInfo || {}).lastMessage || {};
    return {
      id: str(c.id), shortId: str(c.shortId), participants: parts,
      badgeCount: c._badgeCount !== undefined ? c._badgeCount : c.badgeCount,
      coreLast: { content: core.content === undefined ? "" : core.content, createdTime: core.createdTime },
    };
  };
  const userOf = (uid) => {
    const u = (st.userInfoFromServerMap || {})[uid];
    if (!u) return null;
    const thumb = u.avatar_thumb || {};
    return { uid: str(u.uid || uid), sec_uid: str(u.sec_uid), nickname: str(u.nickname),
             unique_id: str(u.unique_id), avatar: str((thumb.url_list || [])[0] || "") };
  };
  const selfUid = () => str(st.selfInfo && (st.selfInfo.uid || st.selfInfo.user_id));
  // Known: what the worker already delivered. Anything else the store holds (a message that came while
  // the page loaded) is handed out by the last-message poll below; history is never handed out twice.
  const seen = new Set(opts.known || []);
  const lastOf = (c) => c && (c.lastMessage || c._lastMessage);
  const emit = (m) => {
    if (!m || !m.serverId) return;
    const id = str(m.serverId);
    if (seen.has(id)) return;
    seen.add(id);
    const message = plainMessage(m);
    const conversation = conversationOf(message.conversationId);
    const me = selfUid();
    let peer = conversation && conversation.participants.find((p) => p.uid && p.uid !== me);
    if (!peer) {
      const ids = message.conversationId.split(":").slice(2);
      peer = { uid: ids.find((x) => x !== me) || "" };
    }
    window[opts.binding]({ kind: "message", message, conversation, user: userOf(peer.uid), self: me });
  };
  const wrap = (arr, name) => {
    const orig = arr[name];
    if (typeof orig !== "function") return;
    arr[name] = function () {
      const result = orig.apply(this, arguments);
      try {
        const items = name === "splice" ? Array.prototype.slice.call(arguments, 2) : Array.prototype.slice.call(arguments);
        items.forEach(emit);
      } catch (e) { /* never break the page */ }
      return result;
    };
  };
  wrap(st.msgListToPush, "splice");
  wrap(st.msgListToPush, "push");
  setInterval(() => {  // fallback: each conversation's last message
    try { for (const c of st.converSationListOrigin || []) emit(lastOf(c)); } catch (e) { /* next tick */ }
  }, 1000);
  const counts = found.notice && found.notice.noticeUnreadCountMap;
  let noticeLast = counts ? Number(counts["7"] || 0) : 0;
  if (counts) {
    setInterval(async () => {
      const now = Number(counts["7"] || 0);
      if (now === noticeLast) return;
      const grew = now > noticeLast;
      noticeLast = now;
      if (!grew) return;
      let body = null;
      try {
        const r = await fetch(opts.noticeUrl);
        body = await r.text();
      } catch (e) { body = null; }
      window[opts.binding]({ kind: "notice", count: now, body });
    }, 1000);
  }
  setInterval(() => window[opts.binding]({ kind: "beat", at: Date.now() }), opts.beatMs);
  window.__imhubListenInstalled = true;
  return { ok: true, locator: found.locator, known: seen.size, notices: !!counts };
}
"""

NOTICE_URL = "/aweme/v1/web/notice/detail/?notice_group=2&count=20&cursor=0"


async def listen_open(
    site: Site,
    *,
    context: BrowserContext,
    emit: Callable[[dict[str, Any]], Awaitable[None]],
    known: list[str] | None = None,
) -> tuple[Page, str, SurfaceChanged | None]:
    """Open a resident page with the hook installed; returns it, where the store (or socket) was
    found, and a SurfaceChanged note when only the socket's frames are tapped (module docstring).
    LoginExpired/RiskDetected from the page's state; SurfaceChanged when there is nothing to tap."""
    samples: list[dict[str, Any]] = []
    for path in LISTEN_PAGES:
        page = await site.page_new(context)
        sockets: list[str] = []
        tapping = {"on": False}

        def on_socket(
            ws: WebSocket, sockets: list[str] = sockets, tapping: dict[str, bool] = tapping
        ) -> None:
            if not any(pattern.search(ws.url) for pattern in IM_SOCKET_URLS):
                return
            sockets.append(ws.url)

            async def on_frame(_payload: object) -> None:  # playwright runs a coroutine handler as a task
                if tapping["on"]:
                    await emit({"kind": "frame"})

            ws.on("framereceived", on_frame)

        page.on("websocket", on_socket)
        try:
            await page.expose_function(BINDING, emit)
            await page.goto(site.url(path), wait_until="domcontentloaded")
            await page_state_check(page)
            result = await page.evaluate(
                HOOK_JS,
                {
                    "entries": list(IM_ENTRY_SELECTORS),
                    "keys": list(IM_STORE_KEYS),
                    "waitMs": STORE_WAIT_MS,
                    "beatMs": BEAT_MS,
                    "binding": BINDING,
                    "noticeUrl": NOTICE_URL,
                    "known": known or [],
                },
            )
            if not result.get("ok") and sockets:
                await page.evaluate(BEAT_JS, {"binding": BINDING, "beatMs": BEAT_MS})
        except BaseException:
            await page.close()
            raise
        if result.get("ok"):
            return page, f"{path}: {result.get('locator', '')}", None
        sample = {"page": path, **{k: v for k, v in result.items() if k != "ok"}, "sockets": list(sockets)}
        if sockets:
            tapping["on"] = True
            note = SurfaceChanged(
                "no page holds the IM store the listener hooks (im-entry fiber -> imStore); "
                "the page's IM socket frames wake a chat read instead",
                locator="listener.im_store",
                sample={
                    "tried": [*samples, sample],
                    "selectors": list(IM_ENTRY_SELECTORS),
                    "keys": list(IM_STORE_KEYS),
                },
            )
            return page, f"{path}: frames of {sockets[0].split('?')[0]}", note
        samples.append(sample)
        await page.close()
    raise SurfaceChanged(
        "no page holds the IM store the listener hooks (im-entry fiber -> imStore), nor an IM socket",
        locator="listener.im_store",
        sample={"tried": samples, "selectors": list(IM_ENTRY_SELECTORS), "keys": list(IM_STORE_KEYS)},
    )


def pushed_message(event: dict[str, Any]) -> Message | None:
    """A pushed message (the hook's plain copy) -> a Message; None for notices and read receipts."""
    raw = dict(event.get("message") or {})
    content = dict(parsers.message_content(raw.get("content")))
    raw["content"] = content
    if raw.get("aweType") is not None and "aweType" not in content:
        content["aweType"] = raw["aweType"]
    return parsers.message_parse(props=raw)


def pushed_conversation(event: dict[str, Any], message: Message) -> Conversation | None:
    """The message's conversation as the store holds it (peer from the participants / user map)."""
    conversation = event.get("conversation") or {}
    user = event.get("user") or {}
    me = str(event.get("self") or "")
    raw = event.get("message") or {}
    # The peer's sec_uid: the user map's, or the sender's of a message it sent; participants may carry
    # no uid (the captured shape lists both sides by sec_uid and nick_name only).
    peer_sec = str(user.get("sec_uid") or ("" if raw.get("isFromMe") else raw.get("secSender") or ""))
    peer_entry: dict[str, Any] = next(
        (
            p
            for p in conversation.get("participants") or []
            if (p.get("uid") and p.get("uid") != me) or (peer_sec and p.get("sec_uid") == peer_sec)
        ),
        {},
    )
    by_id = [u for u in parsers.conversation_uids(message.conversation_id) if me and u != me]
    uid = str(user.get("uid") or peer_entry.get("uid") or (by_id[0] if len(by_id) == 1 else ""))
    if not uid:
        return None
    badge = conversation.get("badgeCount")
    return Conversation(
        conversation_id=message.conversation_id,
        peer=Person(
            id=uid,
            sec_uid=str(user.get("sec_uid") or peer_entry.get("sec_uid") or ""),
            nickname=str(user.get("nickname") or peer_entry.get("nick_name") or ""),
            avatar_url=str(user.get("avatar") or ""),
        ),
        last_message_at=message.created_at,
        last_message_preview=parsers.message_preview(message.msg_type, message.text),
        platform_unread=int(badge) if isinstance(badge, int | float) else 0,
    )


def pushed_batches(event: dict[str, Any], drift: list[DriftNote]) -> list[Batch]:
    """A `message` event -> its message and conversation batches (unreadable: a drift note)."""
    try:
        message = pushed_message(event)
    except (KeyError, ValueError, TypeError) as exc:
        drift.append(DriftNote("listener.message", f"{type(exc).__name__}: {exc}", event.get("message")))
        return []
    if message is None:
        return []
    batches: list[Batch] = []
    conversation = pushed_conversation(event, message)
    if conversation is not None:
        batches.append(("conversations", [conversation]))
    batches.append(("messages", [message]))
    return batches


def pushed_notices(event: dict[str, Any], drift: list[DriftNote]) -> list[Notification] | None:
    """A `notice` event's notice list (fetched by the page) -> notifications; None when unreadable."""
    body = event.get("body")
    if not body:
        return None
    try:
        parsed = parsers.notice_list_parse(body=json.loads(body))
    except Exception as exc:
        drift.append(DriftNote("listener.notice", f"{type(exc).__name__}: {exc}", str(body)[:500]))
        return None
    drift.extend(parsed.skipped)
    return list(parsed.records)
