// Accounts column: avatar, nickname, login and crawler status (problems marked, error on hover), badges.

import { apiGet } from "./api.js";
import { avatar, clear, h } from "./dom.js";
import { t } from "./i18n.js";

const TROUBLE_LOGIN = new Set(["expired", "not_logged_in"]);
const TROUBLE_RUNNER = new Set(["backoff", "cooldown", "stopped"]);

export class AccountsColumn {
  constructor({ list, onSelect }) {
    this.list = list;
    this.onSelect = onSelect;
    this.accounts = new Map();
    this.selected = null;
    this.refreshTimers = new Map();
  }

  async load() {
    const accounts = [];
    let cursor = null;
    do {
      const page = await apiGet("accounts/", { limit: 100, cursor });
      accounts.push(...page.results);
      cursor = page.next_cursor;
    } while (cursor);
    this.accounts = new Map(accounts.map((a) => [a.id, a]));
    this.render();
    return accounts;
  }

  // One account again (after its events): GET /api/im/accounts/{id}/, at most once per 300 ms.
  refreshSoon(accountId) {
    if (!this.accounts.has(accountId) || this.refreshTimers.has(accountId)) return;
    const timer = window.setTimeout(async () => {
      this.refreshTimers.delete(accountId);
      try {
        const account = await apiGet(`accounts/${accountId}/`);
        this.accounts.set(accountId, account);
        this.renderOne(account);
      } catch (error) {
        console.warn("account refresh failed", accountId, error);
      }
    }, 300);
    this.refreshTimers.set(accountId, timer);
  }

  // An account_status event carries the profile and status fields: no request needed.
  statusEvent(data) {
    const account = this.accounts.get(data.id);
    if (!account) return;
    for (const field of ["nickname", "avatar_url", "platform_user_id", "status", "login_status", "runner_status", "listener_status", "last_error"]) {
      if (field in data) account[field] = data[field];
    }
    this.renderOne(account);
  }

  render() {
    clear(this.list);
    if (!this.accounts.size) {
      this.list.append(h("li", { class: "empty", text: t("accounts.empty") }));
      return;
    }
    for (const account of this.accounts.values()) this.list.append(this.row(account));
  }

  // Re-render one account's row only when something it shows changed (keeps its avatar loaded).
  renderOne(account) {
    const old = this.list.querySelector(`[data-account-id="${account.id}"]`);
    const fresh = this.row(account);
    if (old && old.dataset.signature !== fresh.dataset.signature) old.replaceWith(fresh);
  }

  row(account) {
    const loginTrouble = TROUBLE_LOGIN.has(account.login_status);
    const runnerTrouble = TROUBLE_RUNNER.has(account.runner_status) || Boolean(account.last_error);
    const status = [t(`login.${account.login_status}`)];
    if (account.runner_status) status.push(t(`runner.${account.runner_status}`));
    if (account.listener_status) status.push(t(`listener.${account.listener_status}`));
    const unread = account.unread || { comments: 0, messages: 0 };
    const badge = (kind, n, label) =>
      h("span", { class: `badge ${kind}${n ? "" : " zero"}`, title: label, "aria-label": `${label}: ${n}`, dataset: { kind, count: n } },
        h("span", { class: "badge-kind", text: kind === "comments" ? "💬" : "✉️" }), String(n));
    const signature = JSON.stringify([account.nickname, account.avatar_url, account.login_status, account.runner_status, account.listener_status, account.last_error, unread.comments, unread.messages, account.id === this.selected]);
    const li = h(
      "li",
      {
        class: `account${account.id === this.selected ? " selected" : ""}${loginTrouble || runnerTrouble ? " trouble" : ""}`,
        dataset: { accountId: account.id, signature },
        tabindex: "0",
        role: "button",
        "aria-pressed": account.id === this.selected ? "true" : "false",
        onclick: () => this.select(account.id),
        onkeydown: (e) => e.key === "Enter" && this.select(account.id),
      },
      avatar(account.avatar_url, account.nickname),
      h(
        "div",
        { class: "account-main" },
        h("div", { class: "nickname", text: account.nickname || account.platform_user_id || `#${account.id}` }),
        h("div", {
          class: `status${loginTrouble || runnerTrouble ? " bad" : ""}`,
          title: account.last_error || status.join(" · "),
          dataset: { login: account.login_status, runner: account.runner_status || "", listener: account.listener_status || "" },
          text: `${loginTrouble || runnerTrouble ? "⚠ " : ""}${status.join(" · ")}`,
        }),
      ),
      h("div", { class: "badges" }, badge("comments", unread.comments, t("badge.comments")), badge("messages", unread.messages, t("badge.messages"))),
    );
    return li;
  }

  select(accountId) {
    if (!this.accounts.has(accountId)) return;
    this.selected = accountId;
    for (const li of this.list.querySelectorAll(".account")) {
      const on = Number(li.dataset.accountId) === accountId;
      li.classList.toggle("selected", on);
      li.setAttribute("aria-pressed", on ? "true" : "false");
    }
    this.onSelect(this.accounts.get(accountId));
  }
}
