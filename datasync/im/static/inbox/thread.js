// A thread in the detail pane: bubbles oldest at the top, older pages loaded by scrolling up,
// keyed by item so a live event or a sent reply never shows twice.

import { clear, h } from "./dom.js";
import { t } from "./i18n.js";

export class Thread {
  constructor({ element }) {
    this.element = element;
    this.items = new Map(); // key -> {time, el}
    this.loadOlder = null; // async () => boolean (more left)
    this.loading = false;
    this.head = h("div", { class: "thread-head muted" });
    element.addEventListener("scroll", () => {
      if (element.scrollTop < 80) this.older();
    });
  }

  reset(loadOlder) {
    clear(this.element);
    this.items.clear();
    this.loadOlder = loadOlder;
    this.head.textContent = t("detail.load_older");
    this.element.append(this.head);
  }

  async older() {
    if (!this.loadOlder || this.loading) return;
    this.loading = true;
    const before = this.element.scrollHeight - this.element.scrollTop;
    try {
      const more = await this.loadOlder();
      if (!more) {
        this.loadOlder = null;
        this.head.textContent = t("detail.no_older");
      }
    } finally {
      this.loading = false;
    }
    this.element.scrollTop = this.element.scrollHeight - before; // keep the reader's place
  }

  atBottom() {
    return this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 60;
  }

  scrollToBottom() {
    this.element.scrollTop = this.element.scrollHeight;
  }

  has(key) {
    return this.items.has(key);
  }

  // Put a bubble in time order (replacing one with the same key).
  put(key, time, el) {
    el.dataset.key = key;
    const known = this.items.get(key);
    if (known) {
      known.el.replaceWith(el);
      this.items.set(key, { time, el });
      return;
    }
    let after = null;
    for (const item of this.items.values()) {
      if (item.time <= time && (!after || item.time >= after.time)) after = item;
    }
    this.items.set(key, { time, el });
    if (after) after.el.after(el);
    else this.head.after(el);
  }

  remove(key) {
    const known = this.items.get(key);
    if (known) {
      known.el.remove();
      this.items.delete(key);
    }
  }

  get(key) {
    return this.items.get(key)?.el || null;
  }

  empty(text) {
    if (!this.items.size) this.element.append(h("p", { class: "muted empty", text }));
  }
}
