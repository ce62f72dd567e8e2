// Reply box: Enter sends, Shift+Enter breaks the line; every send has its own idempotency key; a reply
// shows pending, then sent (with the platform's id) or failed (with the platform's reason). A failed
// reply is sent again only when the agent presses retry.

import { ApiError, apiGet, apiPost, newKey } from "./api.js";
import { h, itemKey, plain } from "./dom.js";
import { t, timeAbsolute, timeElement } from "./i18n.js";

// A failure code in the inbox's language (the platform's or hub's own message when the code is not known).
export function failureText(code, message) {
  const key = code ? `reply.code.${code}` : null;
  const known = key ? t(key) : key;
  if (known && known !== key) return message && message !== code ? `${known}: ${message}` : known;
  return message || code || "";
}

export class ReplyBox {
  constructor({ form, textarea, label, getAccountId }) {
    this.form = form;
    this.textarea = textarea;
    this.label = label;
    this.getAccountId = getAccountId;
    this.target = null;
    this.detail = null;
    this.replies = new Map(); // local key -> reply
    this.byPlatformKey = new Map(); // "comment:<id>" / "message:<id>" -> reply, once sent
    this.comments = new Map(); // comment records seen, to show a reply's root
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendFromBox();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.sendFromBox();
      } else if (event.key === "Escape") {
        textarea.blur();
        document.dispatchEvent(new CustomEvent("inbox:leave-reply"));
      }
    });
  }

  attach(detail) {
    this.detail = detail;
  }

  setTarget(target, label = "") {
    this.target = target;
    this.form.hidden = !target;
    this.label.textContent = plain(label);
  }

  focus() {
    if (!this.form.hidden) this.textarea.focus();
  }

  rememberComment(record) {
    this.comments.set(record.comment_id, record);
  }

  knownComment(id) {
    return this.comments.get(id) || null;
  }

  sendFromBox() {
    const text = this.textarea.value.trim();
    if (!text || !this.target) return;
    this.textarea.value = "";
    this.send({ accountId: this.getAccountId(), target: { ...this.target }, text });
  }

  // `retryOf`: the earlier try (failed or unknown) a retry repeats; the worker then looks for the text
  // in the thread before posting, so a reply the platform took is never posted twice.
  // `confirm`: the agent agreed to retry an `unknown` reply that may already be posted (the hub
  // refuses such a retry without it: 409 confirm_required).
  async send({ accountId, target, text, retryOf = null, confirm = false }) {
    const reply = { local: newKey(), id: null, accountId, target, text, status: "pending", created: Date.now() };
    reply.key = reply.local; // this send's idempotency key
    this.replies.set(reply.local, reply);
    this.show(reply);
    try {
      const body = { account_id: accountId, target, text, idempotency_key: reply.key };
      if (retryOf) body.retry_of = retryOf;
      if (confirm) body.confirm = true;
      const status = await apiPost("replies/", body);
      this.update(reply, status);
    } catch (error) {
      const code = error instanceof ApiError && error.body ? error.body.error : null;
      const reason = failureText(code, error instanceof ApiError ? error.message : String(error));
      this.update(reply, { status: "failed", error_message: t("reply.error", { reason }) });
    }
  }

  // A retry of an `unknown` reply asks first: it may already be on Douyin.
  retry(reply) {
    const confirm = reply.status === "unknown";
    if (confirm && !window.confirm(t("reply.confirm_unknown"))) return;
    this.replies.delete(reply.local);
    this.detail.thread.remove(`reply:${reply.local}`);
    this.send({ accountId: reply.accountId, target: reply.target, text: reply.text, retryOf: reply.id, confirm });
  }

  async withdraw(reply) {
    if (!reply.id) return;
    try {
      this.update(reply, await apiPost(`replies/${reply.id}/cancel/`, {}));
    } catch (error) {
      // already handed to the worker (409 not_queued): its status comes as usual
      console.warn("withdraw refused", reply.id, error);
      this.update(reply, await apiGet(`replies/${reply.id}/`));
    }
  }

  // A reply_status event from /ws/im/, or a polled status.
  statusEvent(data) {
    for (const reply of this.replies.values()) {
      if (reply.id === data.id) this.update(reply, data);
    }
  }

  update(reply, status) {
    if (status.id) reply.id = status.id;
    if (reply.status !== "pending" && status.status === "pending") return; // an older event
    reply.status = status.status;
    reply.queue = status.queue || null; // its place in the account's write queue while it waits
    reply.platformId = status.platform_reply_id || null;
    reply.reason = failureText(status.error_code, status.error_message || "");
    if (reply.status === "sent" && reply.platformId) {
      const key = itemKey(reply.target.kind === "message" ? "message" : "comment", reply.platformId);
      this.byPlatformKey.set(key, reply);
      const thread = this.detail.thread;
      const entity = thread.get(key);
      if (entity) {
        thread.remove(`reply:${reply.local}`);
        this.decorate(key, entity);
        return;
      }
    }
    this.show(reply);
  }

  // Bubbles of this thread's replies that are not settled (pending, or failed awaiting a retry).
  restore() {
    for (const reply of this.replies.values()) {
      if (reply.status !== "sent") this.show(reply);
    }
  }

  // Poll what is still pending (when the live socket was down and may have missed a status).
  async pollPending() {
    for (const reply of this.replies.values()) {
      if (reply.status !== "pending" || !reply.id) continue;
      try {
        this.update(reply, await apiGet(`replies/${reply.id}/`));
      } catch (error) {
        console.warn("reply status poll failed", reply.id, error);
      }
    }
  }

  // The platform's item of a sent reply arrived in the thread: drop the placeholder, tag the item.
  decorate(key, el) {
    const reply = this.byPlatformKey.get(key);
    if (!reply) return;
    this.detail.thread.remove(`reply:${reply.local}`);
    (el.querySelector(".comment-main") || el).append(this.statusLine(reply));
  }

  statusLine(reply) {
    const line = h("div", { class: `reply-status ${reply.status}`, dataset: { status: reply.status, replyId: reply.id || "" } });
    if (reply.status === "pending" && reply.queue) {
      const eta = Date.parse(reply.queue.eta);
      const position = reply.queue.position;
      const text = eta - Date.now() < 60_000 ? t("reply.queued_soon", { position }) : t("reply.queued", { position, time: timeAbsolute(eta) });
      line.append(h("span", { class: "queued", text }));
      // still waiting: the agent may withdraw it (it becomes failed "withdrawn"; Retry queues it again)
      line.append(h("button", { type: "button", class: "secondary withdraw", onclick: () => this.withdraw(reply) }, t("reply.withdraw")));
    } else if (reply.status === "pending") line.append(t("reply.pending"));
    else if (reply.status === "sent") line.append(`✓ ${t("reply.sent")}`, reply.platformId ? h("code", { class: "platform-id", text: reply.platformId }) : "");
    else if (reply.status === "unknown") {
      line.append(h("span", { class: "reason", text: reply.reason ? `${t("reply.unknown")} (${reply.reason})` : t("reply.unknown") }));
      line.append(h("button", { type: "button", class: "secondary retry", onclick: () => this.retry(reply) }, t("reply.retry")));
    } else {
      line.append(h("span", { class: "reason", text: t("reply.failed", { reason: reply.reason }) }));
      line.append(h("button", { type: "button", class: "secondary retry", onclick: () => this.retry(reply) }, t("reply.retry")));
    }
    return line;
  }

  // The placeholder bubble of a reply in the open thread (only in the thread it was sent to).
  show(reply) {
    const detail = this.detail;
    if (!detail || !detail.view || !this.belongs(reply, detail.view)) return;
    const bubble = h("div", { class: `bubble out local ${reply.status}` },
      h("div", { class: "bubble-text", text: reply.text }),
      h("div", { class: "bubble-meta" }, timeElement(reply.created)),
      this.statusLine(reply));
    detail.thread.put(`reply:${reply.local}`, reply.created, bubble);
    detail.thread.scrollToBottom();
  }

  belongs(reply, view) {
    if (view.accountId !== reply.accountId) return false;
    const target = reply.target;
    if (target.kind === "message") return view.mode === "conversation" && view.conversationId === target.conversation_id;
    if (target.kind === "work") return view.mode === "work" && view.contentId === target.content_id;
    if (view.mode !== "comment") return false;
    const replied = this.comments.get(target.comment_id);
    return target.comment_id === view.rootId || (replied && replied.parent_id === view.rootId);
  }
}
