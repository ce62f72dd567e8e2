// The inbox page: wires the columns together, applies live events, handles the keyboard.

import { AccountsColumn } from "./accounts.js";
import { Contexts } from "./contexts.js";
import { DetailPane } from "./detail.js";
import { refreshTimes, t } from "./i18n.js";
import { InboxList, rowFromRecord } from "./list.js";
import { LiveEvents } from "./live.js";
import { ReplyBox } from "./reply.js";
import { WorksList } from "./works.js";

const $ = (id) => document.getElementById(id);
const contexts = new Contexts();
let accountId = null;

const replies = new ReplyBox({ form: $("reply-box"), textarea: $("reply-text"), label: $("reply-target"), getAccountId: () => accountId });
const detail = new DetailPane({
  pane: $("detail"),
  head: $("detail-head"),
  thread: $("thread"),
  contexts,
  replies,
  onMarked: (id, result) => applyMark(id, result),
});
const inbox = new InboxList({ list: $("item-list"), status: $("list-status"), contexts, onOpen: (row) => detail.open(accountId, row) });
const works = new WorksList({ list: $("work-list"), status: $("works-status"), order: $("works-order"), contexts, onOpen: (work) => detail.openWork(accountId, work).catch((e) => detail.failed(e)) });
const accounts = new AccountsColumn({
  list: $("account-list"),
  onSelect: (account) => {
    accountId = account.id;
    history.replaceState(null, "", `#account=${account.id}`);
    detail.showEmpty();
    works.setAccount(account.id);
    if (currentTab() === "works") works.ensureLoaded();
    inbox.setAccount(account.id);
  },
});

// --- read state ----------------------------------------------------------------------------------

function markPredicate(mark) {
  if (mark.target === "items") {
    const kind = mark.kind === "comments" ? "comment" : "message";
    const ids = new Set(mark.ids);
    return (row) => row.kind === kind && ids.has(row.id);
  }
  if (mark.target === "conversation") {
    return (row) => row.kind === "message" && row.record.conversation_id === mark.conversation_id && row.time <= mark.up_to;
  }
  return (row) => row.kind === "comment" && row.record.content_id === mark.content_id && row.time <= mark.up_to;
}

function applyMark(id, mark) {
  if (id === accountId) inbox.markRead(markPredicate(mark));
  accounts.refreshSoon(id);
}

// --- live events ---------------------------------------------------------------------------------

function onEvent(event) {
  const id = event.account_id;
  if (event.type === "new_item") {
    const { kind, record } = event.data;
    if (kind === "conversation") contexts.learnConversation(record);
    if (kind === "content") contexts.learnWork(record);
    if (kind === "comment" || kind === "message") {
      accounts.refreshSoon(id);
      if (id === accountId) {
        inbox.addLive(rowFromRecord(kind, record, contexts.context(kind, record)));
        detail.addLive(id, kind, record);
      }
    }
  } else if (event.type === "read_mark") {
    applyMark(id, event.data);
  } else if (event.type === "reply_status") {
    replies.statusEvent(event.data);
  } else if (event.type === "account_status") {
    accounts.statusEvent(event.data);
  }
}

async function resync() {
  await accounts.load();
  if (accountId !== null && accounts.accounts.has(accountId)) {
    inbox.reload();
    detail.reload();
    works.stale = true;
    if (currentTab() === "works") works.ensureLoaded();
  }
  replies.pollPending();
}

const banner = $("banner");
const live = new LiveEvents({
  onEvent,
  onResync: () => resync(),
  onState: (state, { resumed } = {}) => {
    $("live-state").dataset.state = state;
    if (state === "reconnecting") {
      banner.textContent = t("live.reconnecting");
      banner.hidden = false;
      banner.dataset.state = "reconnecting";
    } else if (state === "live") {
      banner.hidden = true;
      banner.dataset.state = "live";
      if (resumed) replies.pollPending();
    }
  },
});

// --- tabs, filters, keyboard ---------------------------------------------------------------------

function currentTab() {
  return $("tab-works").getAttribute("aria-selected") === "true" ? "works" : "inbox";
}

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    const name = tab.dataset.tab;
    for (const other of document.querySelectorAll("[data-tab]")) other.setAttribute("aria-selected", String(other === tab));
    $("inbox-view").hidden = name !== "inbox";
    $("works-view").hidden = name !== "works";
    if (name === "works") works.ensureLoaded();
  });
}

for (const radio of document.querySelectorAll("input[name=types]")) {
  radio.addEventListener("change", () => inbox.setFilters({ types: radio.value }));
}
$("unread-only").addEventListener("change", (e) => inbox.setFilters({ unread: e.target.checked }));
let searchTimer = null;
$("search").addEventListener("input", (e) => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => inbox.setFilters({ q: e.target.value.trim() }), 300);
});
$("back").addEventListener("click", () => document.body.classList.remove("detail-open"));
document.addEventListener("inbox:leave-reply", () => $("item-list").focus());

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "j") inbox.move(1);
  else if (event.key === "k") inbox.move(-1);
  else if (event.key === "Enter" && !event.target.closest("button, a, [role=button], .work")) inbox.openActive();
  else if (event.key === "r") {
    event.preventDefault();
    replies.focus();
  } else return;
  event.preventDefault();
});

window.setInterval(() => refreshTimes(), 30_000);

// --- start: the socket first, so nothing that happens while the lists load is missed ------------

live.connect();
const loaded = await accounts.load();
const wanted = Number((location.hash.match(/account=(\d+)/) || [])[1]);
const first = loaded.find((a) => a.id === wanted) || loaded[0];
if (first) accounts.select(first.id);
else $("list-status").textContent = t("list.pick_account");
