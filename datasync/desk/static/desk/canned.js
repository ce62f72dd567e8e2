// The team's canned replies on the desk page: list, add, delete (the reply box offers them after "/").

import { apiDelete, apiGet, apiPost } from "../inbox/api.js";
import { clear, h } from "../inbox/dom.js";
import { t } from "../inbox/i18n.js";

export class CannedEditor {
  constructor({ list, form, shortcut, text, team, state, teams, onChanged }) {
    Object.assign(this, { list, form, shortcut, text, team, state, onChanged });
    for (const row of teams) team.append(h("option", { value: String(row.id), text: row.name }));
    form.hidden = !teams.length;
    shortcut.placeholder = t("canned.shortcut");
    text.placeholder = t("canned.text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
  }

  async load() {
    const rows = (await apiGet("desk/canned-replies/")).results;
    clear(this.list).append(
      ...rows.map((row) =>
        h(
          "li",
          { dataset: { shortcut: row.shortcut } },
          h("strong", { text: `/${row.shortcut}` }),
          ` ${row.text} `,
          h("span", { class: "muted", text: row.team }),
          h("button", { type: "button", class: "link remove", title: "×", text: "×", onclick: () => this.remove(row.id) }),
        ),
      ),
    );
    return rows;
  }

  async add() {
    try {
      await apiPost("desk/canned-replies/", { team_id: Number(this.team.value), shortcut: this.shortcut.value, text: this.text.value });
      this.shortcut.value = "";
      this.text.value = "";
      this.state.textContent = "";
      this.onChanged(await this.load());
    } catch (error) {
      this.state.textContent = t("thread.failed", { detail: error.message });
    }
  }

  async remove(id) {
    try {
      await apiDelete(`desk/canned-replies/${id}/`);
      this.onChanged(await this.load());
    } catch (error) {
      this.state.textContent = t("thread.failed", { detail: error.message });
    }
  }
}
