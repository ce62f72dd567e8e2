"""Douyin replies: to a comment or a work on the comment page, and in a chat conversation.

A reply succeeds only with the platform's proof: the comment-reply API's answer with status 0, or the
sent message appearing in the panel with `isFromMe` and a new server id.
"""

from __future__ import annotations

import logging

from playwright.async_api import BrowserContext, Page

from crawler.errors import ReplyFailed
from crawler.pagekit import ResponseTap
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.chat import chat_page_open, conversation_open, messages_read
from crawler.platforms.douyin.comments import comment_page_open, work_pick
from crawler.platforms.douyin.site import Site, url_path
from datasync.protocol import Comment, Message, ReplyTarget

logger = logging.getLogger("crawler.douyin")

# Marks the rendered node of comment `t.id` with `marker` and says which way it was found, in order:
# the fiber `cid` is the API's id ("fiber_cid"); the fiber's API object has it ("fiber_comment"); the
# fiber `cid` is an encoded "@i/..." id, so the node is the only one with the API record's text and
# author ("text_author"). None when not rendered (yet).
COMMENT_MARK_JS = """([sel, t, marker]) => {
  const nodes = Array.from(document.querySelectorAll(sel)).map((n) => [n, window.__imhubFiberProps(n, "cid")])
    .filter(([, p]) => p);
  const ways = [
    ["fiber_cid", ([, p]) => String(p.cid) === t.id],
    ["fiber_comment", ([, p]) => p.comment && String(p.comment.cid) === t.id],
    ["text_author", ([, p]) => t.text !== null && p.text === t.text && p.user
        && ((t.sec_uid && p.user.sec_uid === t.sec_uid) || (t.uid && String(p.user.uid) === t.uid))],
  ];
  for (const [how, test] of ways) {
    const hits = nodes.filter(test);
    if (hits.length === 1 || (hits.length > 1 && how !== "text_author")) { hits[0][0].id = marker; return how; }
  }
  return null; }"""


async def reply_send(
    site: Site, *, context: BrowserContext, target: ReplyTarget, text: str
) -> Comment | Message:
    """Perform a reply in the page; returns the created entity, proven by the platform's answer."""
    if target.kind == "message":
        return await message_send(site, context=context, target=target, text=text)
    return await comment_send(site, context=context, target=target, text=text)


async def comment_send(site: Site, *, context: BrowserContext, target: ReplyTarget, text: str) -> Comment:
    if not target.content_id:
        raise ReplyFailed("a comment or work reply needs content_id", code="invalid_target")
    page, tap = await comment_page_open(site, context=context)
    try:
        await work_pick(page, tap, target.content_id)
        await tap.wait_for("comments", count=1, timeout=15)
        await tap.settle(quiet=0.15)
        if target.kind == "work":
            editor = page.locator(f'[class*="top-editor-"] {L.EDITOR}').first
            scope = page.locator('[class*="top-editor-"]').first
        else:
            if not target.comment_id:
                raise ReplyFailed("a comment reply needs comment_id", code="invalid_target")
            marker = f"imhub-target-{target.comment_id}"
            how = await comment_reveal(page, tap, target.comment_id, marker)
            logger.info("reply target comment %s found by %s", target.comment_id, how)
            await page.evaluate(
                """(marker) => { const node = document.getElementById(marker);
                    const op = Array.from(node.querySelector('[class*="operations-"]').children)
                        .find((c) => c.textContent.trim() === "回复");
                    op.click(); }""",
                marker,
            )
            scope = page.locator(f'#{marker} [class*="reply-editor-slot-"]').first
            editor = scope.locator(L.EDITOR).first
        # The editor's placeholder lies over it (as on the site): click through it, then type.
        await editor.click(force=True)
        await editor.fill(text)
        async with page.expect_response(
            lambda r: bool(L.COMMENT_REPLY_POST_API.match(url_path(r.url))), timeout=15000
        ) as info:
            await scope.get_by_text(L.SEND_TEXT, exact=True).click()
        response = await info.value
        body = await response.json()
        code = parsers.as_int(body.get("status_code") if isinstance(body, dict) else None, -1)
        if code != 0:
            raise ReplyFailed(
                str(body.get("status_msg") or "refused by the platform"), code=f"platform_{code}"
            )
        created = dict(body["comment_info"])
        created.setdefault("cid", created.get("comment_id"))
        return parsers.comment_parse(raw=created)
    finally:
        await page.close()


async def comment_reveal(page: Page, tap: ResponseTap, comment_id: str, marker: str) -> str:
    """Load comments (scroll, expand replies) until the node of `comment_id` is rendered; marks it
    with `marker` and returns how it was found (see COMMENT_MARK_JS)."""
    known: dict[str, Comment] = {}
    progressed = True
    for _ in range(300):
        await tap.settle(quiet=0.15)
        for captured in tap.take("comments") + tap.take("replies"):
            for comment in parsers.comment_list_parse(body=captured.body).records:
                known[comment.comment_id] = comment
        tap.take()
        record = known.get(comment_id)
        wanted = {
            "id": comment_id,
            "text": record.text if record else None,
            "sec_uid": record.author.sec_uid if record else "",
            "uid": record.author.id if record else "",
        }
        how = await page.evaluate(COMMENT_MARK_JS, [L.COMMENT_ITEM, wanted, marker])
        if how:
            return str(how)
        if not progressed:
            break
        progressed = await page.evaluate(
            """([panelSel, moreSel, texts]) => { const p = document.querySelector(panelSel);
                if (!texts.some((t) => p.textContent.includes(t))) {
                    p.scrollTop = p.scrollHeight; p.dispatchEvent(new Event("scroll")); return true; }
                const more = Array.from(document.querySelectorAll(moreSel));
                more.forEach((n) => n.click()); return more.length > 0; }""",
            [L.COMMENT_PANEL, L.REPLY_MORE, list(L.COMMENT_END_TEXTS)],
        )
    raise ReplyFailed(f"comment {comment_id} not found on the page", code="target_not_found")


async def message_send(site: Site, *, context: BrowserContext, target: ReplyTarget, text: str) -> Message:
    if not target.conversation_id:
        raise ReplyFailed("a message reply needs conversation_id", code="invalid_target")
    page = await chat_page_open(site, context=context)
    try:
        await page.locator(L.CONVERSATION_ROW).first.wait_for()
        props = await conversation_open(page, target.conversation_id)
        before = {m.message_id for m in await messages_read(page, target.conversation_id)}
        expected = str((props.get("peer") or {}).get("nickname") or "")
        header = (await page.locator(L.CHAT_HEADER_NAME).first.inner_text()).strip()
        if not expected or header != expected:
            raise ReplyFailed(
                f"chat header shows {header!r}, expected {expected!r}", code="wrong_conversation"
            )
        editor = page.locator(L.CHAT_INPUT).first
        await editor.click()
        await editor.fill(text)
        await page.locator(L.CHAT_SEND).first.click()
        sent = await page.evaluate(
            """async ([panelSel, itemSel, id, text, before]) => {
                const panel = document.querySelector(panelSel); const started = Date.now();
                while (Date.now() - started < 15000) {
                    const hit = Array.from(panel.querySelectorAll(itemSel))
                        .map((n) => window.__imhubFiberProps(n, "serverId")).filter(Boolean)
                        .find((p) => p.isFromMe && p.conversationId === id && p.content && p.content.text === text
                              && !before.includes(String(p.serverId)));
                    if (hit) return hit;
                    const toast = document.querySelector('[class*="toast"]');
                    if (toast && toast.textContent && toast.textContent.includes("失败")) return {error: toast.textContent};
                    await new Promise((r) => setTimeout(r, 100));
                }
                return null; }""",
            [L.MESSAGE_PANEL, L.MESSAGE_ITEM, target.conversation_id, text.strip(), sorted(before)],
        )
        if sent is None:
            raise ReplyFailed("the sent message did not appear (no proof of delivery)", code="unconfirmed")
        if "error" in sent:
            raise ReplyFailed(str(sent["error"]).strip(), code="platform_refused")
        message = parsers.message_parse(props=sent)
        if message is None:
            raise ReplyFailed("the sent message could not be read", code="unconfirmed")
        return message
    finally:
        await page.close()
