// One thread: its items, notes and who replied; status, assignment and labels; collision warnings;
// the reply box with canned replies (/shortcut, {name} is the customer's nickname).

import { ApiError, apiGet, apiPost, newKey } from "../inbox/api.js";
import { avatar, clear, h } from "../inbox/dom.js";
import { t, timeAbsolute, timeElement } from "../inbox/i18n.js";
import { attachmentParts, emojiText } from "../inbox/media.js";

const HOUR = 3600 * 1000;

export class ThreadPane {
  constructor({ els, me, accountName, agents, onChanged }) {
    this.els = els;
    this.me = me;
    this.accountName = accountName;
    this.agents = agents;
    this.onChanged = onChanged;
    this.detail = null;
    this.canned = [];
    this.beat = null;
    this.typingSent = 0;
    els.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    els.text.addEventListener("input", () => this.typed());
    els.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && els.menu.hidden) {
        event.preventDefault();
        this.send();
      }
    });
    els.noteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addNote();
    });
    window.addEventListener("beforeunload", () => this.leave());
  }

  async loadCanned() {
    this.canned = (await apiGet("desk/canned-replies/")).results;
  }

  get id() {
    return this.detail ? this.detail.id : null;
  }

  async open(row) {
    if (this.id && this.id !== row.id) this.leave();
    this.detail = await apiGet(`desk/threads/${encodeURIComponent(row.id)}/`);
    this.render();
    this.presence("viewing");
    window.clearInterval(this.beat);
    this.beat = window.setInterval(() => this.presence("viewing"), 10000);
  }

  async reload() {
    if (!this.detail) return;
    const asOf = this.detail.as_of;
    this.detail = await apiGet(`desk/threads/${encodeURIComponent(this.detail.id)}/`);
    this.detail.as_of = asOf; // what the agent has seen stays the collision baseline until they send
    this.render();
  }

  leave() {
    if (!this.detail) return;
    const id = this.detail.id;
    window.clearInterval(this.beat);
    apiPost(`desk/threads/${encodeURIComponent(id)}/presence/`, { state: "left" }).catch(() => {});
  }

  presence(state) {
    if (!this.detail) return;
    apiPost(`desk/threads/${encodeURIComponent(this.detail.id)}/presence/`, { state }).catch(() => {});
  }

  typed() {
    const value = this.els.text.value;
    this.cannedMenu(value.startsWith("/") ? value.slice(1).toLowerCase() : null);
    const now = Date.now();
    if (now - this.typingSent > 3000) {
      this.typingSent = now;
      this.presence("typing");
    }
  }

  cannedMenu(prefix) {
    const menu = clear(this.els.menu);
    if (prefix === null) {
      menu.hidden = true;
      return;
    }
    const matches = this.canned.filter((c) => c.shortcut.startsWith(prefix.split(/\s/)[0]));
    for (const snippet of matches.slice(0, 8)) {
      menu.append(
        h(
          "li",
          { dataset: { shortcut: snippet.shortcut } },
          h("button", { type: "button", onclick: () => this.useCanned(snippet) }, h("strong", { text: `/${snippet.shortcut}` }), " ", snippet.title || snippet.text),
        ),
      );
    }
    menu.hidden = !matches.length;
  }

  useCanned(snippet) {
    const name = (this.detail && this.detail.customer && this.detail.customer.nickname) || "";
    this.els.text.value = snippet.text.replace(/\{name\}/g, name);
    this.els.menu.hidden = true;
    this.els.text.focus();
  }

  render() {
    const d = this.detail;
    const customer = d.customer || {};
    const writable = this.me.writable_account_ids === null || this.me.writable_account_ids.includes(d.account_id);
    const act = (action, extra = {}) => () => this.act(action, extra);
    const assign = h("select", { class: "assign", "aria-label": t("bulk.assign_to"), disabled: !writable }, h("option", { value: "", text: t("thread.unassigned") }));
    for (const agent of this.agents()) assign.append(h("option", { value: String(agent.id), text: agent.username, selected: agent.id === d.assignee_id }));
    assign.addEventListener("change", () => this.act("assign", { assignee_id: assign.value ? Number(assign.value) : null }));
    const label = h("input", { class: "label-input", placeholder: t("thread.label_placeholder"), maxlength: "40", disabled: !writable });
    label.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && label.value.trim()) this.act("label_add", { label: label.value.trim() });
    });
    clear(this.els.head).append(
      h(
        "div",
        { class: "who" },
        avatar(customer.avatar_url, customer.nickname),
        h("strong", { text: customer.nickname || "?" }),
        h("span", { class: "account", text: this.accountName(d.account_id) }),
        h("span", { class: `status-chip ${d.status}`, id: "thread-status", text: t(`status.${d.status}`) }),
        d.waiting_since ? h("span", { class: "waiting", text: t("thread.waiting", { time: "" }) }, timeElement(d.waiting_since)) : null,
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "assign-me", disabled: !writable, onclick: act("assign", { assignee_id: this.me.id }), text: t("thread.assign_me") }),
        assign,
        d.status === "resolved"
          ? h("button", { type: "button", id: "reopen", disabled: !writable, onclick: act("reopen"), text: t("thread.reopen") })
          : h("button", { type: "button", id: "resolve", disabled: !writable, onclick: act("resolve"), text: t("thread.resolve") }),
        h("button", { type: "button", id: "snooze", disabled: !writable, onclick: act("snooze", { until: Date.now() + HOUR }), text: t("thread.snooze") }),
        h("button", { type: "button", id: "mark-read", disabled: !writable || !d.unread, onclick: act("mark_read"), text: t("thread.mark_read") }),
        h("span", { class: "labels" }, ...d.labels.map((name) => h("button", { type: "button", class: "label", title: "×", onclick: act("label_remove", { label: name }), text: name })), label),
      ),
    );
    this.showPresence(d.viewers || []);
    const items = clear(this.els.items);
    const sentBy = new Map();
    for (const reply of d.replies) if (reply.platform_reply_id && reply.sent_by) sentBy.set(reply.platform_reply_id, reply.sent_by);
    const byText = new Map(d.replies.filter((r) => r.sent_by).map((r) => [r.text, r.sent_by]));
    const entries = [
      ...d.items.map((item) => ({ at: item.created_at, item })),
      ...d.notes.map((note) => ({ at: note.created_at, note })),
    ].sort((a, b) => a.at - b.at);
    for (const entry of entries) {
      if (entry.note) {
        items.append(this.noteEl(entry.note));
        continue;
      }
      const item = entry.item;
      const mine = item.kind === "message" ? item.direction === "out" : item.is_author;
      const id = item.message_id || item.comment_id;
      const who = mine ? sentBy.get(id) || byText.get(item.text) : null;
      items.append(
        h(
          "div",
          { class: `item ${mine ? "out" : "in"}`, dataset: { id } },
          h("div", { class: "text", text: emojiText(item.text) }),
          attachmentParts(item),
          h("div", { class: "meta" }, timeElement(item.created_at), who ? h("span", { class: "sent-by", text: t("thread.sent_by", { name: who }) }) : null),
        ),
      );
    }
    for (const reply of d.replies.filter((r) => r.status !== "sent")) {
      items.append(h("div", { class: `item out reply-${reply.status}`, dataset: { reply: reply.id } }, h("div", { class: "text", text: reply.text }), h("div", { class: "meta", text: `${reply.status} · ${t("thread.sent_by", { name: reply.sent_by || "?" })}` })));
    }
    items.scrollTop = items.scrollHeight;
    this.els.form.hidden = !writable;
    this.els.noteForm.hidden = !writable;
    this.els.state.textContent = writable ? "" : t("thread.read_only");
    this.els.text.placeholder = t("thread.reply_placeholder");
    this.els.noteText.placeholder = t("thread.note_placeholder");
    this.loadCustomer(customer);
  }

  noteEl(note) {
    return h("div", { class: "item note" }, h("div", { class: "text", text: note.text }), h("div", { class: "meta" }, h("span", { text: `${t("thread.note")} · ${note.author || "?"}` }), timeElement(note.created_at)));
  }

  async loadCustomer(customer) {
    const pane = clear(this.els.customer);
    if (!customer.id) return;
    pane.append(avatar(customer.avatar_url, customer.nickname, "large"), h("h3", { text: customer.nickname || "?" }), h("div", { class: "muted", text: customer.sec_uid || customer.id }));
    const data = await apiGet(`desk/customers/${encodeURIComponent(customer.id)}/`).catch(() => null);
    if (!data) return;
    const others = data.threads.filter((thread) => thread.id !== this.id);
    if (!others.length) return;
    pane.append(h("h4", { text: t("customer.other_threads") }));
    pane.append(h("ul", { class: "other-threads" }, ...others.map((thread) => h("li", {}, h("span", { class: "account", text: this.accountName(thread.account_id) }), " ", h("span", { class: `status-chip ${thread.status}`, text: t(`status.${thread.status}`) }), " ", thread.last_text))));
  }

  showPresence(viewers) {
    const others = viewers.filter((v) => v.user_id !== this.me.id);
    const typing = others.filter((v) => v.state === "typing").map((v) => v.username);
    const viewing = others.filter((v) => v.state !== "typing").map((v) => v.username);
    const el = clear(this.els.presence);
    if (typing.length) el.append(h("span", { class: "typing", text: t("thread.typing", { names: typing.join(", ") }) }));
    if (viewing.length) el.append(h("span", { class: "viewing", text: t("thread.viewing", { names: viewing.join(", ") }) }));
  }

  async act(action, extra = {}) {
    try {
      const result = await apiPost("desk/threads/bulk/", { action, ids: [this.detail.id], ...extra });
      if (result.threads[0]) Object.assign(this.detail, result.threads[0]);
      await this.reload();
      this.onChanged();
    } catch (error) {
      this.els.state.textContent = t("thread.failed", { detail: error.message });
    }
  }

  async send(confirm = false, key = newKey()) {
    const text = this.els.text.value.trim();
    if (!text || !this.detail) return;
    this.els.state.textContent = "…";
    try {
      const reply = await apiPost(`desk/threads/${encodeURIComponent(this.detail.id)}/reply/`, { text, idempotency_key: key, opened_at: this.detail.as_of, confirm });
      this.els.text.value = "";
      // waiting in the account's write queue (gap, caps, quiet hours): say where and until when
      this.els.state.textContent = reply && reply.queue
        ? t("thread.queued", { position: reply.queue.position, time: timeAbsolute(Date.parse(reply.queue.eta)) })
        : t("thread.sent");
      this.detail.as_of = Date.now();
      await this.reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.body && error.body.error === "answered_since") {
        const names = (error.body.answered_by || []).join(", ") || "?";
        this.els.state.textContent = t("thread.answered_since", { names });
        if (window.confirm(t("thread.answered_since", { names }))) return this.send(true, key);
        return;
      }
      this.els.state.textContent = t("thread.failed", { detail: error.message });
    }
  }

  async addNote() {
    const text = this.els.noteText.value.trim();
    if (!text || !this.detail) return;
    await apiPost(`desk/threads/${encodeURIComponent(this.detail.id)}/notes/`, { text });
    this.els.noteText.value = "";
  }

  noteAdded(note) {
    if (!this.detail || note.thread !== this.detail.id) return;
    if (this.detail.notes.some((n) => n.id === note.id)) return;
    this.detail.notes.push(note);
    this.els.items.append(this.noteEl(note));
  }
}
