"""Douyin replies: to a comment or a work on the comment page, and in a chat conversation.

A reply is `sent` only with the platform's proof: the comment-reply API's answer with status 0 (whatever
else it lacks: captured answers name no work), or the sent message appearing in the panel with
`isFromMe` and a new server id; or, before a retry and after a restart, the account's own comment or
message with the same text (whitespace ignored) in the thread, at least as new as the first attempt.
A refusal is `failed` (`ReplyFailed`, `ReplyThrottled` for a risk signal such as status 8
`评论失败，请稍后重试`); no answer or no proof in time is `unknown` (`ReplyUnknown`), never `failed`.

Line breaks are typed the way the editors take them: Shift+Enter breaks a line (Enter sends).
"""

from __future__ import annotations

import logging
import time

from playwright.async_api import BrowserContext, Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.errors import ReplyFailed, ReplyUnknown
from crawler.pagekit import ResponseTap
from crawler.platforms import ReplyJob
from crawler.platforms.douyin import locators as L
from crawler.platforms.douyin import parsers
from crawler.platforms.douyin.chat import chat_page_open, conversation_open, messages_read
from crawler.platforms.douyin.comments import captured_comments, comment_page_open, work_pick
from crawler.platforms.douyin.site import Site, url_path
from datasync.protocol import Comment, Message, Person, ReplyTarget

logger = logging.getLogger("crawler.douyin")

ANSWER_TIMEOUT_MS = 15000  # the comment-reply API's answer, and a sent message's node in the panel
PROOF_SLACK_MS = 60_000  # the hub's clock and the platform's may differ by this much
PROOF_PAGES = 30  # top-level comment pages read (newest first) when looking for a proof
ENCRYPTED_VARIANTS = ("creator_list", "creator_reply_list")  # list locators whose ids are encrypted

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


def text_key(text: str) -> str:
    """A text for comparison: whitespace (line breaks included) ignored."""
    return "".join(text.split())


def proof_since(first_attempt_at: int | None) -> int:
    """The oldest time a proof may carry: the first attempt, less the clock slack (0: any time)."""
    return max(0, first_attempt_at - PROOF_SLACK_MS) if first_attempt_at else 0


def proof_matches(record: Comment | Message, *, text: str, since: int) -> bool:
    """The account's own record with `text` (whitespace ignored), at least `since` new."""
    own = record.is_author if isinstance(record, Comment) else record.direction == "out"
    return own and text_key(record.text) == text_key(text) and record.created_at >= since


async def reply_send(site: Site, *, context: BrowserContext, job: ReplyJob) -> Comment | Message | None:
    """Perform a reply in the page; returns the created record, proven by the platform (None: the
    platform accepted it but its answer names nothing readable)."""
    if job.target.kind == "message":
        return await message_send(site, context=context, job=job)
    return await comment_send(site, context=context, job=job)


async def reply_find(
    site: Site, *, context: BrowserContext, target: ReplyTarget, text: str, since: int
) -> Comment | Message | None:
    """The reply's proof in its thread (see `proof_matches`), or None."""
    if target.kind == "message":
        page = await chat_page_open(site, context=context)
        try:
            await conversation_open(page, str(target.conversation_id))
            return message_proof(
                await messages_read(page, str(target.conversation_id)), text=text, since=since
            )
        finally:
            await page.close()
    page, tap = await comment_page_open(site, context=context)
    try:
        return await comment_proof_find(page, tap, target=target, text=text, since=since)
    finally:
        await page.close()


async def editor_type(page: Page, editor: Locator, text: str) -> None:
    """Type `text` into a focused contenteditable as a person does: Shift+Enter between lines."""
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.press("Delete")
    for index, line in enumerate(text.split("\n")):
        if index:
            await page.keyboard.press("Shift+Enter")
        if line:
            await page.keyboard.insert_text(line)


# ---- comments ----------------------------------------------------------------------------------------


def _target_check(target: ReplyTarget) -> str:
    if not target.content_id:
        raise ReplyFailed("a comment or work reply needs content_id", code="invalid_target")
    if target.kind == "comment" and not target.comment_id:
        raise ReplyFailed("a comment reply needs comment_id", code="invalid_target")
    return target.content_id


async def comment_send(site: Site, *, context: BrowserContext, job: ReplyJob) -> Comment | None:
    target = job.target
    content_id = _target_check(target)
    page, tap = await comment_page_open(site, context=context)
    try:
        since = proof_since(job.first_attempt_at)
        if job.verify_first:
            proof = await comment_proof_find(page, tap, target=target, text=job.text, since=since)
            if proof is not None:
                logger.info("reply found in the thread before a retry: comment %s", proof.comment_id)
                return proof
            tap.take()
        await work_pick(page, tap, content_id)
        await tap.wait_for("comments", count=1, timeout=15)
        await tap.settle(quiet=0.15)
        encrypted = lists_encrypted(tap)
        thread: str | None = None
        if target.kind == "work":
            scope = page.locator('[class*="top-editor-"]').first
        else:
            marker = f"imhub-target-{abs(hash(target.comment_id))}"
            how, known = await comment_reveal(
                page, tap, str(target.comment_id), marker, content_id=content_id
            )
            logger.info("reply target comment %s found by %s", target.comment_id, how)
            record = known.get(str(target.comment_id))
            thread = (record.parent_id or record.comment_id) if record else str(target.comment_id)
            await page.evaluate(
                """(marker) => { const node = document.getElementById(marker);
                    const op = Array.from(node.querySelector('[class*="operations-"]').children)
                        .find((c) => c.textContent.trim() === "回复");
                    op.click(); }""",
                marker,
            )
            scope = page.locator(f'[id="{marker}"] [class*="reply-editor-slot-"]').first
        editor = scope.locator(L.EDITOR).first
        # The editor's placeholder lies over it (as on the site): click through it, then type.
        await editor.click(force=True)
        await editor_type(page, editor, job.text)
        sent_at = int(time.time() * 1000)
        await job.posting_mark()
        try:
            async with page.expect_response(
                lambda r: bool(L.COMMENT_REPLY_POST_API.match(url_path(r.url))), timeout=ANSWER_TIMEOUT_MS
            ) as info:
                await scope.get_by_text(L.SEND_TEXT, exact=True).click()
            response = await info.value
        except PlaywrightTimeout:
            raise ReplyUnknown(
                f"no answer from the platform within {ANSWER_TIMEOUT_MS // 1000} s", code="no_answer"
            ) from None
        try:
            body = await response.json()
        except Exception:  # an answer that is not JSON: said neither yes nor no
            body = None
        platform_id, created = parsers.reply_answer_parse(
            body=body, status=response.status, content_id=content_id, parent_id=thread, now_ms=sent_at
        )
        logger.info("comment reply accepted by the platform: id %s", platform_id)
        if encrypted:
            # the page's lists name comments by encrypted ids, the answer by the plain one: take the
            # new comment as the lists name it, so the hub holds it once (it is sent either way)
            try:
                listed = await comment_proof_find(
                    page, tap, target=target, text=job.text, since=sent_at - PROOF_SLACK_MS
                )
            except Exception as exc:
                logger.warning("reading the sent comment %s back failed: %s", platform_id, exc)
                listed = None
            if listed is not None:
                return listed
        if created is None and platform_id:
            created = Comment(
                comment_id=platform_id,
                content_id=content_id,
                parent_id=thread,
                author=Person(id=""),
                text=job.text,
                created_at=sent_at,
                is_author=True,
            )
        return created
    finally:
        await page.close()


def lists_encrypted(tap: ResponseTap) -> bool:
    """Whether the page reads its comments from the captured creator APIs, whose ids are encrypted."""
    return any(c.variant in ENCRYPTED_VARIANTS for c in tap.captured if c.name in ("comments", "replies"))


async def comment_reveal(
    page: Page, tap: ResponseTap, comment_id: str, marker: str, *, content_id: str
) -> tuple[str, dict[str, Comment]]:
    """Load comments (scroll, expand replies) until the node of `comment_id` is rendered; marks it
    with `marker` and returns how it was found (see COMMENT_MARK_JS) and the records read meanwhile."""
    known: dict[str, Comment] = {}
    progressed = True
    for _ in range(300):
        await tap.settle(quiet=0.15)
        for captured in tap.take("comments") + tap.take("replies"):
            for comment in captured_comments(captured, content_id=content_id).records:
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
            return str(how), known
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


async def comment_proof_find(
    page: Page, tap: ResponseTap, *, target: ReplyTarget, text: str, since: int
) -> Comment | None:
    """Read the target's thread afresh (the work chosen again, so the lists start from the newest) and
    return the account's own comment there with `text`, at least `since` new (the newest of several)."""
    content_id = _target_check(target)
    tap.take()
    await work_pick(page, tap, content_id)
    await tap.wait_for("comments", count=1, timeout=15)
    found: list[Comment] = []
    if target.kind == "work":
        for _ in range(PROOF_PAGES):
            await tap.settle(quiet=0.15)
            more, oldest = False, None
            for captured in tap.take("comments"):
                parsed = captured_comments(captured, content_id=content_id)
                more = parsed.has_more
                for comment in parsed.records:
                    oldest = comment.created_at if oldest is None else min(oldest, comment.created_at)
                    if comment.parent_id is None and proof_matches(comment, text=text, since=since):
                        found.append(comment)
            if not more or (oldest is not None and oldest < since):
                break
            await page.evaluate(
                """(sel) => { const p = document.querySelector(sel);
                    if (p) { p.scrollTop = p.scrollHeight; p.dispatchEvent(new Event("scroll")); } }""",
                L.COMMENT_PANEL,
            )
            await tap.wait_for("comments", count=1, timeout=10)
    else:
        marker = f"imhub-proof-{abs(hash(target.comment_id))}"
        _, known = await comment_reveal(page, tap, str(target.comment_id), marker, content_id=content_id)
        record = known.get(str(target.comment_id))
        root = (record.parent_id or record.comment_id) if record else str(target.comment_id)
        found.extend(
            c for c in known.values() if c.parent_id == root and proof_matches(c, text=text, since=since)
        )
        for _ in range(200):
            clicked = await page.evaluate(
                """([marker, itemSel, moreSel]) => { const node = document.getElementById(marker);
                    if (!node) return false;
                    const root = (node.parentElement && node.parentElement.closest(itemSel)) || node;
                    const more = root.querySelector(moreSel);
                    if (!more) return false; more.click(); return true; }""",
                [marker, L.COMMENT_ITEM, L.REPLY_MORE],
            )
            await tap.settle(quiet=0.15)
            for captured in tap.take("replies"):
                for comment in captured_comments(captured, content_id=content_id).records:
                    if comment.parent_id == root and proof_matches(comment, text=text, since=since):
                        found.append(comment)
            if not clicked:
                break
    return max(found, key=lambda c: c.created_at) if found else None


# ---- messages ----------------------------------------------------------------------------------------


def message_proof(messages: list[Message], *, text: str, since: int) -> Message | None:
    """The newest own message of `messages` with `text` (whitespace ignored), at least `since` new."""
    hits = [m for m in messages if proof_matches(m, text=text, since=since)]
    return max(hits, key=lambda m: m.created_at) if hits else None


async def message_send(site: Site, *, context: BrowserContext, job: ReplyJob) -> Message:
    target = job.target
    if not target.conversation_id:
        raise ReplyFailed("a message reply needs conversation_id", code="invalid_target")
    page = await chat_page_open(site, context=context)
    try:
        await page.locator(L.CONVERSATION_ROW).first.wait_for()
        props = await conversation_open(page, target.conversation_id)
        shown = await messages_read(page, target.conversation_id)
        if job.verify_first:
            proof = message_proof(shown, text=job.text, since=proof_since(job.first_attempt_at))
            if proof is not None:
                logger.info("reply found in the conversation before a retry: message %s", proof.message_id)
                return proof
        before = {m.message_id for m in shown}
        expected = parsers.conversation_names(props)
        header = (await page.locator(L.CHAT_HEADER_NAME).first.inner_text()).strip()
        if not expected or header not in expected:
            raise ReplyFailed(
                f"chat header shows {header!r}, expected one of {sorted(expected)!r}",
                code="wrong_conversation",
            )
        editor = page.locator(L.CHAT_INPUT).first
        await editor.click()
        await editor_type(page, editor, job.text)
        await job.posting_mark()
        await page.locator(L.CHAT_SEND).first.click()
        sent = await page.evaluate(
            """async ([panelSel, itemSel, id, key, before, timeout]) => {
                const textOf = (p) => { let c = p.content;  // an object, or a JSON string (captured shape)
                    if (typeof c === "string") { try { c = JSON.parse(c); } catch (e) { c = {text: c}; } }
                    return (c && c.text) || ""; };
                const panel = document.querySelector(panelSel); const started = Date.now();
                while (Date.now() - started < timeout) {
                    const hit = Array.from(panel.querySelectorAll(itemSel))
                        .map((n) => window.__imhubFiberProps(n, "serverId")).filter(Boolean)
                        .find((p) => p.isFromMe && p.conversationId === id && textOf(p).replace(/\\s+/g, "") === key
                              && !before.includes(String(p.serverId)));
                    if (hit) return hit;
                    const toast = document.querySelector('[class*="toast"]');
                    if (toast && toast.textContent && toast.textContent.includes("失败")) return {error: toast.textContent};
                    await new Promise((r) => setTimeout(r, 100));
                }
                return null; }""",
            [
                L.MESSAGE_PANEL,
                L.MESSAGE_ITEM,
                target.conversation_id,
                text_key(job.text),
                sorted(before),
                ANSWER_TIMEOUT_MS,
            ],
        )
        if sent is None:
            raise ReplyUnknown(
                f"the sent message did not appear within {ANSWER_TIMEOUT_MS // 1000} s (no proof either way)",
                code="unconfirmed",
            )
        if "error" in sent:
            raise ReplyFailed(str(sent["error"]).strip(), code="platform_refused")
        message = parsers.message_parse(props=sent)
        if message is None:
            raise ReplyUnknown("the sent message could not be read", code="answer_unreadable")
        return message
    finally:
        await page.close()
