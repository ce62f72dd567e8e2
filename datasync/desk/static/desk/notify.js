// Notifications: the count in the title, an optional sound, desktop alerts for new threads and for
// threads assigned to me (the browser asks for permission once, on the button).

import { plain } from "../inbox/dom.js";
import { t } from "../inbox/i18n.js";

export class Notifier {
  constructor({ soundBox, alertsButton, me }) {
    this.me = me;
    this.soundBox = soundBox;
    this.base = document.title;
    this.fired = [];
    soundBox.checked = localStorage.getItem("desk.sound") === "1";
    soundBox.addEventListener("change", () => localStorage.setItem("desk.sound", soundBox.checked ? "1" : "0"));
    alertsButton.addEventListener("click", () => {
      if ("Notification" in window) Notification.requestPermission();
    });
  }

  title(count) {
    document.title = count ? `(${count}) ${this.base}` : this.base;
  }

  // `before`: the row as this page knew it (null: a thread new to this page).
  thread(row, before) {
    if (row.gone) return;
    const name = (row.customer && row.customer.nickname) || "?";
    if (row.assignee_id === this.me.id && (!before || before.assignee_id !== this.me.id)) {
      this.alert(t("notify.assigned", { name }), row);
    } else if (row.status === "open" && row.last_direction === "in" && (!before || before.status !== "open") && !row.assignee_id) {
      this.alert(t("notify.new_thread", { name }), row);
    }
  }

  alert(text, row) {
    this.fired.push(text);
    if (this.soundBox.checked) this.beep();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(plain(text), { body: plain(row.last_text), tag: row.id, silent: !document.hidden });
    }
  }

  beep() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch {
      // no audio output: the title and the desktop alert remain
    }
  }
}
