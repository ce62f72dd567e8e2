// Inbox column: comments and DMs merged newest first, filters, search, endless scroll by cursor,
// live inserts. Rows are keyed by kind + id, so live events and reloads never duplicate a row.

import { ApiError, apiGet } from "./api.js";
import { avatar, clear, h, itemKey } from "./dom.js";
import { t, timeElement } from "./i18n.js";
import { mediaLabel } from "./media.js";

const PAGE = 30;
const RANK = { comment: 0, message: 1 };

// Newest first, as the store orders its unified timeline: (time, rank, id) descending.
function compareRows(a, b) {
  if (a.time !== b.time) return b.time - a.time;
  if (RANK[a.kind] !== RANK[b.kind]) return RANK[b.kind] - RANK[a.kind];
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function rowFromRecord(kind, record, context) {
  const inbound = kind === "comment" ? !record.is_author : record.direction === "in";
  const id = kind === "comment" ? record.comment_id : record.message_id;
  return { kind, id, time: record.created_at, unread: inbound, record, context };
}

export class InboxList {
  constructor({ list, status, onOpen, contexts }) {
    this.list = list;
    this.status = status;
    this.onOpen = onOpen;
    this.contexts = contexts; // shared titles / peers, filled from rows and events
    this.rows = new Map();
    this.elements = new Map();
    this.accountId = null;
    this.filters = { types: "all", unread: false, q: "" };
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.generation = 0;
    this.activeKey = null;
    this.openKey = null;
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { root: list.parentElement }).observe(status);
  }

  setAccount(accountId) {
    this.accountId = accountId;
    this.openKey = null;
    return this.reload();
  }

  setFilters(filters) {
    Object.assign(this.filters, filters);
    return this.reload();
  }

  // Start over from the first page (filters changed, account changed, or a resync).
  reload() {
    this.generation += 1;
    this.rows.clear();
    this.elements.clear();
    clear(this.list);
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.activeKey = null;
    return this.loadMore();
  }

  async loadMore() {
    if (this.accountId === null || this.done) return;
    if (this.loading) return this.loading;
    const generation = this.generation;
    this.setStatus(t("list.loading"));
    this.loading = (async () => {
      try {
        const page = await apiGet("unified-messages/", {
          account_id: this.accountId,
          types: this.filters.types,
          unread: this.filters.unread ? "true" : "",
          q: this.filters.q,
          limit: PAGE,
          cursor: this.cursor,
        });
        if (generation !== this.generation) return;
        for (const row of page.results) this.merge(row);
        this.cursor = page.next_cursor;
        this.done = !page.next_cursor;
        this.render();
      } catch (error) {
        if (generation === this.generation) this.setStatus(t("error.load", { reason: error instanceof ApiError ? error.message : String(error) }));
        throw error;
      } finally {
        if (generation === this.generation) this.loading = null;
      }
      // a search page may hold few rows: keep going while the end of the list is in view
      if (!this.done && this.statusInView()) await this.loadMore();
    })();
    return this.loading;
  }

  statusInView() {
    const box = this.list.parentElement.getBoundingClientRect();
    const rect = this.status.getBoundingClientRect();
    return rect.top < box.bottom && rect.bottom > box.top;
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  merge(row) {
    const key = itemKey(row.kind, row.id);
    this.contexts.learn(row);
    const known = this.rows.get(key);
    this.rows.set(key, known ? { ...known, ...row, context: row.context || known.context } : row);
    return key;
  }

  matches(row) {
    const { types, unread, q } = this.filters;
    if (types === "comments" && row.kind !== "comment") return false;
    if (types === "messages" && row.kind !== "message") return false;
    if (unread && !row.unread) return false;
    if (q) {
      const needle = q.toLocaleLowerCase();
      const name = this.authorOf(row).nickname || "";
      if (!row.record.text.toLocaleLowerCase().includes(needle) && !name.toLocaleLowerCase().includes(needle)) return false;
    }
    return true;
  }

  // A new comment or DM from /ws/im/: shown at once when it belongs in the current view.
  addLive(row) {
    if (!this.matches(row)) return false;
    const sorted = this.sortedRows();
    const oldest = sorted[sorted.length - 1];
    if (!this.done && oldest && compareRows(row, oldest) > 0) return false; // a later page brings it
    this.merge(row);
    this.render();
    return true;
  }

  markRead(predicate) {
    let changed = false;
    for (const [key, row] of this.rows) {
      if (row.unread && predicate(row)) {
        this.rows.set(key, { ...row, unread: false });
        changed = true;
      }
    }
    if (changed) this.render();
  }

  sortedRows() {
    return [...this.rows.values()].sort(compareRows);
  }

  authorOf(row) {
    if (row.kind === "comment") return row.record.author;
    if (row.record.direction === "out") return { nickname: t("row.you"), avatar_url: "" };
    return this.contexts.peer(row.record.conversation_id) || { nickname: row.record.sender_id, avatar_url: "" };
  }

  render() {
    const sorted = this.sortedRows();
    let previous = null;
    for (const row of sorted) {
      const key = itemKey(row.kind, row.id);
      const fresh = this.element(row);
      const current = this.elements.get(key);
      if (current !== fresh) {
        if (current) current.replaceWith(fresh);
        this.elements.set(key, fresh);
      }
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== fresh) this.list.insertBefore(fresh, want);
      previous = fresh;
    }
    if (!sorted.length) this.setStatus(this.done ? t("list.empty") : t("list.loading"));
    else this.setStatus(this.done ? t("list.end") : t("list.loading"));
  }

  // The row's element, rebuilt only when what it shows changed.
  element(row) {
    const key = itemKey(row.kind, row.id);
    const author = this.authorOf(row);
    const where = row.kind === "comment"
      ? t("row.comment_on", { title: this.contexts.title(row.record.content_id, row.context) || t("row.untitled") })
      : `${t("row.dm")} · ${(this.contexts.peer(row.record.conversation_id) || row.context?.peer || author).nickname || ""}`;
    const signature = JSON.stringify([row.unread, author.nickname, author.avatar_url, where, key === this.activeKey, key === this.openKey]);
    const current = this.elements.get(key);
    if (current && current.dataset.signature === signature) return current;
    const li = h(
      "li",
      {
        class: `item ${row.kind}${row.unread ? " unread" : ""}${key === this.activeKey ? " active" : ""}${key === this.openKey ? " open" : ""}`,
        role: "option",
        "aria-selected": key === this.activeKey ? "true" : "false",
        dataset: { key, kind: row.kind, id: row.id, signature },
        onclick: () => this.open(key),
      },
      avatar(author.avatar_url, author.nickname),
      h(
        "div",
        { class: "item-main" },
        h("div", { class: "item-top" },
          h("span", { class: "author", text: author.nickname || "?" }),
          row.unread ? h("span", { class: "dot", title: t("row.unread"), "aria-label": t("row.unread") }) : null,
          timeElement(row.time)),
        h("div", { class: "text", text: row.record.text || mediaLabel((row.record.attachments || []).map((a) => a.type)) }),
        h("div", { class: "where", text: where }),
      ),
    );
    return li;
  }

  // keyboard: move the highlight by `step` rows (j / k)
  move(step) {
    const keys = this.sortedRows().map((r) => itemKey(r.kind, r.id));
    if (!keys.length) return;
    const index = keys.indexOf(this.activeKey);
    const next = index < 0 ? 0 : Math.min(keys.length - 1, Math.max(0, index + step));
    this.activeKey = keys[next];
    this.render();
    this.elements.get(this.activeKey)?.scrollIntoView({ block: "nearest" });
  }

  openActive() {
    if (this.activeKey) this.open(this.activeKey);
  }

  open(key) {
    const row = this.rows.get(key);
    if (!row) return;
    this.activeKey = key;
    this.openKey = key;
    this.render();
    this.onOpen(row);
  }

  row(key) {
    return this.rows.get(key);
  }
}
