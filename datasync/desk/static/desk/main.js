// The desk page: views and filters, the queue, the thread pane, live events, notifications.

import { apiDelete, apiGet, apiPost } from "../inbox/api.js";
import { h } from "../inbox/dom.js";
import { refreshTimes, t } from "../inbox/i18n.js";
import { LiveEvents } from "../inbox/live.js";
import { CannedEditor } from "./canned.js";
import { Notifier } from "./notify.js";
import { QueueList } from "./queue.js";
import { ThreadPane } from "./thread.js";

const $ = (id) => document.getElementById(id);
const accounts = new Map();
const agents = new Map();
let me = null;
let view = "unassigned";
let matching = false;

const accountName = (id) => (accounts.get(id) || {}).nickname || `#${id}`;
const userName = (id) => (agents.get(id) || {}).username || `#${id}`;

const queue = new QueueList({
  list: $("thread-list"),
  status: $("queue-status"),
  accountName,
  userName,
  onOpen: (row) => openThread(row),
  onSelection: (n) => {
    matching = false;
    $("selected-count").textContent = n ? t("queue.selected", { n }) : "";
  },
});

let pane = null;
let notifier = null;

function params() {
  const p = { status: $("f-status").value, account_id: $("f-account").value, kind: $("f-kind").value, label: $("f-label").value.trim() };
  if ($("f-unread").checked) p.unread = "true";
  if (view === "mine") {
    p.assignee = "me";
    p.assigneeId = me.id;
  } else if (view === "unassigned") p.assignee = "none";
  return p;
}

function apiParams() {
  const { assigneeId, ...rest } = params();
  return rest;
}

async function reload() {
  const p = params();
  queue.params = p;
  await queue.load(p);
  queue.params = p;
  refreshCounts();
}

let countsTimer = null;
function refreshCounts() {
  window.clearTimeout(countsTimer);
  countsTimer = window.setTimeout(async () => {
    const counts = await apiGet("desk/threads/counts/");
    for (const name of ["mine", "unassigned", "all"]) {
      const el = document.querySelector(`[data-count="${name}"]`);
      if (el) el.textContent = String(counts[name].open || "");
    }
    notifier.title(counts.mine.open + counts.unassigned.open);
  }, 150);
}

async function openThread(row) {
  queue.markOpen(row.id);
  await pane.open(row);
}

async function bulk(action, extra = {}) {
  const body = { action, ...extra };
  if (matching) body.filter = apiParams();
  else body.ids = [...queue.selected];
  if (!body.filter && !body.ids.length) return;
  const result = await apiPost("desk/threads/bulk/", body);
  $("selected-count").textContent = `${t(`thread.${action === "mark_read" ? "mark_read" : action}`)}: ${result.count}`;
  await reload();
}

// --- live events ---------------------------------------------------------------------------------

function onEvent(event) {
  if (event.type === "thread") {
    const before = queue.rows.get(event.data.id);
    notifier.thread(event.data, before ? before.row : null);
    queue.update(event.data);
    if (pane.id === event.data.id && !event.data.gone) pane.reload();
    refreshCounts();
  } else if (event.type === "presence") {
    if (pane.id === event.data.thread) pane.showPresence(event.data.viewers);
  } else if (event.type === "thread_note") {
    pane.noteAdded(event.data);
  } else if (event.type === "reply_status") {
    if (pane.id && Number(pane.id.split(":")[0]) === event.account_id) pane.reload();
  }
}

// --- saved filters (the server's: yours and your teams' shared ones) ---------------------------------

async function showSaved() {
  const list = $("saved-filters");
  const saved = (await apiGet("desk/saved-filters/")).results;
  list.replaceChildren(
    ...saved.map((row) =>
      h(
        "li",
        { dataset: { filterId: String(row.id) } },
        h("button", { type: "button", class: "link", text: row.team ? `${row.name} (${row.team})` : row.name, onclick: () => applySaved(row.params) }),
        row.owner === me.username
          ? h("button", { type: "button", class: "link remove", title: "×", text: "×", onclick: () => apiDelete(`desk/saved-filters/${row.id}/`).then(showSaved) })
          : null,
      ),
    ),
  );
}

function applySaved(saved) {
  view = saved.view;
  $("f-status").value = saved.status || "open";
  $("f-account").value = saved.account_id || "";
  $("f-kind").value = saved.kind || "";
  $("f-unread").checked = saved.unread === "true";
  $("f-label").value = saved.label || "";
  markView();
  reload();
}

async function saveFilter() {
  const name = window.prompt(t("filters.name"), "");
  if (!name) return;
  const team = me.teams.length && window.confirm(t("filters.share", { team: me.teams[0].name })) ? me.teams[0].id : null;
  const { assigneeId, assignee, ...query } = params(); // the view carries the assignee
  await apiPost("desk/saved-filters/", { name, view, params: query, team_id: team });
  await showSaved();
}

function markView() {
  for (const button of document.querySelectorAll("[data-view]")) button.setAttribute("aria-pressed", String(button.dataset.view === view));
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  me = await apiGet("desk/me/");
  // the heartbeat auto-assignment needs to count this agent in (and their available/away switch)
  const online = await apiPost("desk/online/", {});
  $("available-on").checked = online.available;
  $("available-on").addEventListener("change", (event) => apiPost("desk/online/", { available: event.target.checked }));
  window.setInterval(() => apiPost("desk/online/", {}).catch(() => {}), 30000);
  notifier = new Notifier({ soundBox: $("sound-on"), alertsButton: $("alerts-on"), me });
  let cursor = null;
  do {
    const page = await apiGet("im/accounts/", { limit: 100, cursor });
    for (const account of page.results) accounts.set(account.id, account);
    cursor = page.next_cursor;
  } while (cursor);
  for (const account of accounts.values()) $("f-account").append(h("option", { value: String(account.id), text: account.nickname || `#${account.id}` }));
  for (const agent of (await apiGet("desk/agents/")).results) {
    agents.set(agent.id, agent);
    $("bulk-assign").append(h("option", { value: String(agent.id), text: agent.username }));
  }
  pane = new ThreadPane({
    els: {
      head: $("thread-head"),
      presence: $("presence"),
      items: $("thread-items"),
      form: $("desk-reply"),
      text: $("desk-reply-text"),
      menu: $("canned-menu"),
      state: $("reply-state"),
      noteForm: $("note-form"),
      noteText: $("note-text"),
      customer: $("customer-pane"),
    },
    me,
    accountName,
    agents: () => [...agents.values()],
    onChanged: () => refreshCounts(),
  });
  await pane.loadCanned();
  const editor = new CannedEditor({
    list: $("canned-list"),
    form: $("canned-form"),
    shortcut: $("canned-shortcut"),
    text: $("canned-text"),
    team: $("canned-team"),
    state: $("canned-state"),
    teams: me.teams,
    onChanged: (rows) => {
      pane.canned = rows;
    },
  });
  await editor.load();
  for (const button of document.querySelectorAll("[data-view]")) {
    button.addEventListener("click", () => {
      view = button.dataset.view;
      markView();
      reload();
    });
  }
  for (const id of ["f-status", "f-account", "f-kind", "f-unread"]) $(id).addEventListener("change", () => reload());
  $("f-label").addEventListener("change", () => reload());
  $("select-page").addEventListener("change", (event) => queue.selectPage(event.target.checked));
  $("select-matching").addEventListener("click", () => {
    queue.selectPage(true);
    matching = true;
    $("selected-count").textContent = t("queue.all_matching_on");
  });
  for (const button of document.querySelectorAll("[data-bulk]")) button.addEventListener("click", () => bulk(button.dataset.bulk));
  $("bulk-assign").addEventListener("change", (event) => {
    if (event.target.value) bulk("assign", { assignee_id: Number(event.target.value) });
    event.target.value = "";
  });
  $("save-filter").addEventListener("click", () => saveFilter());
  await showSaved();
  markView();
  const live = new LiveEvents({
    onEvent,
    onResync: () => reload(),
    onState: (state) => {
      $("live-state").dataset.state = state;
    },
  });
  live.connect();
  await reload();
  window.setInterval(() => refreshTimes(), 30000);
}

start();
