// Works tab: the account's works with their stats, sortable by any stat; a work opens its comments.

import { apiGet } from "./api.js";
import { clear, cover, h } from "./dom.js";
import { formatCount, t, timeElement } from "./i18n.js";

const PAGE = 30;
const STATS = ["views", "likes", "comments", "shares", "favorites"];

export class WorksList {
  constructor({ list, status, order, onOpen, contexts }) {
    this.list = list;
    this.status = status;
    this.order = order;
    this.onOpen = onOpen;
    this.contexts = contexts;
    this.accountId = null;
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.generation = 0;
    this.stale = true;
    order.addEventListener("change", () => this.reload());
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { root: list.parentElement }).observe(status);
  }

  setAccount(accountId) {
    this.accountId = accountId;
    this.stale = true;
  }

  ensureLoaded() {
    if (this.stale) this.reload();
  }

  reload() {
    this.stale = false;
    this.generation += 1;
    clear(this.list);
    this.cursor = null;
    this.done = false;
    this.loading = null;
    return this.loadMore();
  }

  async loadMore() {
    if (this.accountId === null || this.done || this.stale || this.loading) return this.loading;
    const generation = this.generation;
    this.status.textContent = t("list.loading");
    this.loading = apiGet("contents/", { account_id: this.accountId, ordering: this.order.value, limit: PAGE, cursor: this.cursor })
      .then((page) => {
        if (generation !== this.generation) return;
        for (const work of page.results) {
          this.contexts.learnWork(work);
          this.list.append(this.row(work));
        }
        this.cursor = page.next_cursor;
        this.done = !page.next_cursor;
        this.status.textContent = this.list.children.length ? (this.done ? t("list.end") : "") : t("works.empty");
      })
      .catch((error) => {
        if (generation === this.generation) this.status.textContent = t("error.load", { reason: error.message });
      })
      .finally(() => {
        if (generation === this.generation) this.loading = null;
      });
    return this.loading;
  }

  row(work) {
    const sortedBy = this.order.value.replace("-", "");
    return h("li", { class: "work", dataset: { contentId: work.content_id }, tabindex: "0", onclick: () => this.onOpen(work), onkeydown: (e) => e.key === "Enter" && this.onOpen(work) },
      cover(work.cover_url),
      h("div", { class: "work-main" },
        h("div", { class: "work-title", text: work.title || t("row.untitled") }),
        h("ul", { class: "stats" }, STATS.map((s) => h("li", { class: s === sortedBy ? "sorted" : "", title: t(`stats.${s}`) }, h("span", { class: "muted", text: t(`stats.${s}`) }), " ", h("strong", { dataset: { stat: s }, text: formatCount(work.stats[s]) })))),
        h("div", { class: "muted" }, timeElement(work.published_at),
          work.unread_comments ? h("span", { class: "badge comments" }, t("works.unread", { n: work.unread_comments })) : null)));
  }
}
