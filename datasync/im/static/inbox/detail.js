// Detail pane: a DM conversation as a thread, a comment with its work and reply thread, or a work
// with its comments. Opening marks read (team-shared); live items land in the open thread.

import { apiGet, apiPost } from "./api.js";
import { avatar, clear, cover, h, itemKey } from "./dom.js";
import { formatCount, t, timeElement } from "./i18n.js";
import { attachmentParts, emojiText } from "./media.js";
import { Thread } from "./thread.js";

const PAGE = 30;
const STATS = ["views", "likes", "comments", "shares", "favorites"];

export class DetailPane {
  constructor({ pane, head, thread, contexts, replies, onMarked }) {
    this.pane = pane;
    this.head = head;
    this.thread = new Thread({ element: thread });
    this.contexts = contexts;
    this.replies = replies;
    this.onMarked = onMarked;
    this.view = null;
    this.generation = 0;
    this.replies.attach(this);
    this.showEmpty();
  }

  showEmpty() {
    this.view = null;
    clear(this.head);
    this.thread.reset(null);
    clear(this.thread.element).append(h("p", { class: "muted empty", text: t("detail.empty") }));
    this.replies.setTarget(null);
    document.body.classList.remove("detail-open");
  }

  // --- opening ---------------------------------------------------------------------------------

  open(accountId, row) {
    const opening = row.kind === "message"
      ? this.openConversation(accountId, row.record.conversation_id, row)
      : this.openComment(accountId, row.record, row);
    return opening.catch((error) => this.failed(error));
  }

  // After a resync: open the same thread again from the API (it may have missed items).
  reload() {
    const view = this.view;
    if (!view) return null;
    let opening;
    if (view.mode === "conversation") opening = this.openConversation(view.accountId, view.conversationId);
    else if (view.mode === "comment") opening = this.openComment(view.accountId, view.comment);
    else {
      opening = apiGet(`contents/${encodeURIComponent(view.contentId)}/`, { account_id: view.accountId }).then((work) =>
        this.openWork(view.accountId, work),
      );
    }
    return opening.catch((error) => this.failed(error));
  }

  failed(error) {
    console.warn("detail failed", error);
    clear(this.head).append(h("p", { class: "form-error", text: t("error.load", { reason: error.message || String(error) }) }));
  }

  async openConversation(accountId, conversationId, row = null) {
    const generation = this.begin({ mode: "conversation", accountId, conversationId });
    const [conversation] = await Promise.all([
      // a DM can arrive before its conversation record: then the peer we already know stands in
      apiGet(`conversations/${encodeURIComponent(conversationId)}/`, { account_id: accountId }).catch(() => ({
        conversation_id: conversationId,
        peer: this.contexts.peer(conversationId),
        unread: 0,
      })),
      this.startThread(generation, (cursor) =>
        apiGet("messages/", { account_id: accountId, conversation_id: conversationId, limit: PAGE, cursor }),
      ),
    ]);
    if (generation !== this.generation) return;
    this.contexts.learnConversation(conversation);
    const peer = conversation.peer || {};
    clear(this.head).append(
      h("div", { class: "head-row" },
        avatar(peer.avatar_url, peer.nickname, "large"),
        h("div", { class: "head-main" }, h("h2", { text: peer.nickname || conversationId }), h("div", { class: "muted", text: t("row.dm") })),
        h("button", { type: "button", class: "secondary", id: "mark-conversation", onclick: () => this.markConversation() }, t("detail.mark_conversation")),
      ),
    );
    this.replies.setTarget({ kind: "message", conversation_id: conversationId }, t("reply.target_dm", { name: peer.nickname || "" }));
    this.thread.scrollToBottom();
    if (conversation.unread > 0 || (row && row.unread)) await this.markConversation();
  }

  async openComment(accountId, comment, row = null) {
    const rootId = comment.parent_id || comment.comment_id;
    const generation = this.begin({ mode: "comment", accountId, comment, rootId, contentId: comment.content_id });
    const [work] = await Promise.all([
      apiGet(`contents/${encodeURIComponent(comment.content_id)}/`, { account_id: accountId }).catch(() => null),
      this.startThread(generation, (cursor) =>
        apiGet("discussions/", { account_id: accountId, parent_id: rootId, limit: PAGE, cursor }),
      ),
    ]);
    if (generation !== this.generation) return;
    if (work) this.contexts.learnWork(work);
    clear(this.head).append(this.workHead(work, comment.content_id));
    if (comment.parent_id) {
      const root = this.replies.knownComment(rootId);
      if (root) this.putComment(root, { root: true });
    } else {
      this.putComment(comment, { root: true });
    }
    this.thread.get(itemKey("comment", comment.comment_id))?.classList.add("focus");
    this.replyToComment(comment);
    if (row && row.unread) {
      await this.mark({ account_id: accountId, target: "items", kind: "comments", ids: [comment.comment_id] });
    }
  }

  async openWork(accountId, work) {
    const generation = this.begin({ mode: "work", accountId, contentId: work.content_id });
    this.contexts.learnWork(work);
    clear(this.head).append(this.workHead(work, work.content_id));
    this.replies.setTarget({ kind: "work", content_id: work.content_id }, t("reply.target_work"));
    await this.startThread(generation, (cursor) =>
      apiGet("discussions/", { account_id: accountId, content_id: work.content_id, limit: PAGE, cursor }),
    );
    if (generation === this.generation) this.thread.scrollToBottom();
  }

  begin(view) {
    this.generation += 1;
    this.view = view;
    document.body.classList.add("detail-open");
    clear(this.head).append(h("p", { class: "muted", text: t("list.loading") }));
    this.thread.reset(null);
    return this.generation;
  }

  // First page now; older pages when the reader scrolls up.
  async startThread(generation, fetchPage) {
    let cursor = null;
    const loadPage = async () => {
      const page = await fetchPage(cursor);
      if (generation !== this.generation) return false;
      for (const record of page.results) this.putRecord(record);
      cursor = page.next_cursor;
      return Boolean(cursor);
    };
    this.thread.reset(null);
    const more = await loadPage();
    if (generation !== this.generation) return;
    this.thread.loadOlder = more ? loadPage : null;
    if (!more) this.thread.head.textContent = t("detail.no_older");
    this.replies.restore(); // replies still pending or failed in this thread keep their bubble
    this.thread.scrollToBottom();
  }

  workHead(work, contentId) {
    const title = work ? work.title || t("row.untitled") : contentId;
    const stats = work
      ? h("ul", { class: "stats" }, STATS.map((s) => h("li", { title: t(`stats.${s}`) }, h("span", { class: "muted", text: t(`stats.${s}`) }), " ", h("strong", { text: formatCount(work.stats[s]) }))))
      : null;
    const open = this.view && this.view.mode === "comment"
      ? h("button", { type: "button", class: "link", onclick: () => work && this.openWork(this.view.accountId, work).catch((e) => this.failed(e)) }, t("detail.open_work"))
      : null;
    return h("div", { class: "head-row work-head" },
      cover(work && work.cover_url),
      h("div", { class: "head-main" },
        h("h2", { class: "work-title", text: title }),
        stats,
        work && work.published_at ? h("div", { class: "muted" }, `${t("stats.published_at")} `, timeElement(work.published_at)) : null,
        open),
      h("button", { type: "button", class: "secondary", id: "mark-work", onclick: () => this.markWork(contentId) }, t("detail.mark_work")),
    );
  }

  // --- bubbles ---------------------------------------------------------------------------------

  putRecord(record) {
    if ("message_id" in record) this.putMessage(record);
    else this.putComment(record);
  }

  putMessage(record) {
    const key = itemKey("message", record.message_id);
    const bubble = h("div", { class: `bubble ${record.direction === "out" ? "out" : "in"}`, dataset: { id: record.message_id } },
      h("div", { class: "bubble-text", text: emojiText(record.text) }),
      attachmentParts(record),
      h("div", { class: "bubble-meta" }, timeElement(record.created_at)));
    this.replies.decorate(key, bubble);
    this.thread.put(key, record.created_at, bubble);
  }

  putComment(record, { root = false } = {}) {
    this.replies.rememberComment(record);
    const key = itemKey("comment", record.comment_id);
    const author = record.author || {};
    const mode = this.view && this.view.mode;
    const el = h("div", { class: `comment-bubble${record.is_author ? " mine" : ""}${root ? " root" : ""}`, dataset: { id: record.comment_id } },
      avatar(author.avatar_url, author.nickname),
      h("div", { class: "comment-main" },
        h("div", { class: "comment-top" },
          h("span", { class: "author", text: author.nickname || "?" }),
          record.is_author ? h("span", { class: "tag", text: t("detail.author") }) : null,
          record.reply_to ? h("span", { class: "muted", text: `▸ ${record.reply_to.nickname}` }) : null,
          timeElement(record.created_at)),
        h("div", { class: "comment-text", text: emojiText(record.text) }),
        attachmentParts(record),
        h("div", { class: "comment-actions muted" },
          record.likes ? `♥ ${formatCount(record.likes)} ` : "",
          mode === "work" && record.reply_count ? `${t("detail.reply_count", { n: record.reply_count })} ` : "",
          mode === "work"
            ? h("button", { type: "button", class: "link", onclick: () => this.openComment(this.view.accountId, record) }, t("detail.view_replies"))
            : h("button", { type: "button", class: "link", onclick: () => this.replyToComment(record) }, t("detail.reply_to", { name: author.nickname || "" })),
        )));
    this.replies.decorate(key, el);
    this.thread.put(key, root ? -1 : record.created_at, el);
  }

  replyToComment(record) {
    this.replies.setTarget(
      { kind: "comment", content_id: record.content_id, comment_id: record.comment_id },
      t("reply.target_comment", { name: record.author?.nickname || "" }),
    );
  }

  // A live item (new_item event) for the open thread, if it belongs there.
  addLive(accountId, kind, record) {
    const view = this.view;
    if (!view || view.accountId !== accountId) return;
    const stick = this.thread.atBottom();
    if (kind === "message" && view.mode === "conversation" && record.conversation_id === view.conversationId) this.putMessage(record);
    else if (kind === "comment" && view.mode === "comment" && record.parent_id === view.rootId) this.putComment(record);
    else if (kind === "comment" && view.mode === "work" && !record.parent_id && record.content_id === view.contentId) this.putComment(record);
    else return;
    if (stick) this.thread.scrollToBottom();
  }

  // --- read marks -------------------------------------------------------------------------------

  async mark(body) {
    const result = await apiPost("read-marks/", body);
    this.onMarked(body.account_id, result);
    return result;
  }

  markConversation() {
    const view = this.view;
    return this.mark({ account_id: view.accountId, target: "conversation", conversation_id: view.conversationId });
  }

  markWork(contentId) {
    return this.mark({ account_id: this.view.accountId, target: "content", content_id: contentId });
  }
}
