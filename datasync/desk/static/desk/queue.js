// The queue: one row per thread across the team's accounts, longest waiting first; selection for bulk.

import { apiGet } from "../inbox/api.js";
import { avatar, clear, h } from "../inbox/dom.js";
import { t, timeElement } from "../inbox/i18n.js";
import { mediaLabel } from "../inbox/media.js";

export class QueueList {
  constructor({ list, status, onOpen, onSelection, accountName, userName }) {
    this.list = list;
    this.status = status;
    this.onOpen = onOpen;
    this.onSelection = onSelection;
    this.accountName = accountName;
    this.userName = userName;
    this.rows = new Map();
    this.selected = new Set();
    this.params = {};
    this.cursor = null;
    this.openId = null;
  }

  async load(params) {
    this.generation = (this.generation || 0) + 1;
    this.params = params;
    this.rows.clear();
    this.selected.clear();
    this.cursor = null;
    clear(this.list);
    this.status.textContent = t("list.loading");
    await this.more();
  }

  async more() {
    const generation = this.generation;
    const { assigneeId, ...query } = this.params;
    const page = await apiGet("desk/threads/", { ...query, limit: 50, cursor: this.cursor });
    if (generation !== this.generation) return; // a newer load started meanwhile
    for (const row of page.results) {
      if (!this.rows.has(row.id)) this.put(row, { append: true }); // a live event may have put it already
    }
    this.cursor = page.next_cursor;
    this.status.textContent = "";
    if (this.cursor) this.status.append(h("button", { type: "button", class: "link", text: t("queue.more"), onclick: () => this.more() }));
    else if (!this.rows.size) this.status.textContent = t("queue.empty");
    this.onSelection(this.selected.size);
  }

  // Does a row belong in the current view? (the same filter the API applies)
  keeps(row) {
    const p = this.params;
    if (p.status && p.status !== "all" && row.status !== p.status) return false;
    if (p.account_id && String(row.account_id) !== String(p.account_id)) return false;
    if (p.kind && row.kind !== p.kind) return false;
    if (p.unread === "true" && !row.unread) return false;
    if (p.label && !row.labels.includes(p.label)) return false;
    if (p.assignee === "none" && row.assignee_id !== null) return false;
    if (p.assignee && p.assignee !== "none" && p.assignee !== "any" && String(row.assignee_id) !== String(p.assigneeId ?? p.assignee)) return false;
    return true;
  }

  // A live update: insert, move or drop the row so the list stays sorted by waiting time.
  update(row) {
    const old = this.rows.get(row.id);
    if (row.gone || !this.keeps(row)) {
      if (old) {
        old.el.remove();
        this.rows.delete(row.id);
        this.selected.delete(row.id);
      }
      return;
    }
    if (old) old.el.remove();
    this.put(row, { append: false });
  }

  put(row, { append }) {
    const old = this.rows.get(row.id);
    if (old) old.el.remove();
    const el = this.render(row);
    this.rows.set(row.id, { row, el });
    if (append) {
      this.list.append(el);
      return;
    }
    const after = [...this.list.children].find((child) => {
      const other = this.rows.get(child.dataset.id);
      return other && (other.row.sort_time > row.sort_time || (other.row.sort_time === row.sort_time && other.row.id > row.id));
    });
    if (after) this.list.insertBefore(el, after);
    else if (!this.cursor) this.list.append(el);
    else this.rows.delete(row.id); // beyond the loaded pages: it comes with "load more"
  }

  render(row) {
    const customer = row.customer || {};
    const box = h("input", {
      type: "checkbox",
      class: "pick",
      "aria-label": customer.nickname || row.id,
      checked: this.selected.has(row.id),
      onclick: (event) => {
        event.stopPropagation();
        if (event.target.checked) this.selected.add(row.id);
        else this.selected.delete(row.id);
        this.onSelection(this.selected.size);
      },
    });
    const el = h(
      "li",
      {
        class: `thread-row status-${row.status}${row.unread ? " unread" : ""}${row.id === this.openId ? " open" : ""}`,
        dataset: { id: row.id, status: row.status },
        tabindex: "0",
        onclick: () => this.onOpen(row),
      },
      box,
      avatar(customer.avatar_url, customer.nickname),
      h(
        "div",
        { class: "body" },
        h(
          "div",
          { class: "line" },
          h("strong", { class: "customer", text: customer.nickname || "?" }),
          h("span", { class: `kind kind-${row.kind}`, text: t(`kind.${row.kind}`) }),
          h("span", { class: "account", text: this.accountName(row.account_id) }),
          row.unread ? h("span", { class: "badge", text: String(row.unread) }) : null,
        ),
        h("div", { class: "text", text: `${row.last_direction === "out" ? `${t("row.you")}: ` : ""}${row.last_text || mediaLabel([row.last_media])}` }),
        h(
          "div",
          { class: "meta" },
          h("span", { class: `status-chip ${row.status}`, text: t(`status.${row.status}`) }),
          h("span", { class: "assignee", text: row.assignee_id ? this.userName(row.assignee_id) : t("thread.unassigned") }),
          ...row.labels.map((label) => h("span", { class: "label", text: label })),
          row.waiting_since ? h("span", { class: "waiting" }, timeElement(row.waiting_since)) : timeElement(row.last_at),
        ),
      ),
    );
    return el;
  }

  markOpen(id) {
    this.openId = id;
    for (const { row, el } of this.rows.values()) el.classList.toggle("open", row.id === id);
  }

  selectPage(on) {
    for (const id of this.rows.keys()) {
      if (on) this.selected.add(id);
      else this.selected.delete(id);
    }
    for (const box of this.list.querySelectorAll("input.pick")) box.checked = on;
    this.onSelection(this.selected.size);
  }
}
