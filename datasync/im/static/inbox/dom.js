// Tiny DOM helpers: build elements from data without innerHTML, so platform text is never markup.

// Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): a fan's text
// could use them to show "exe.txt" for "txt.exe" or reorder what follows it. Text shown is cleared of
// them (the stored data keeps them as sent).
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export function plain(text) {
  return String(text).replace(BIDI_CONTROLS, "");
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = plain(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(plain(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// An avatar image that falls back to the name's first character when there is no picture.
export function avatar(url, name, size = "") {
  const initial = h("span", { class: `avatar initial ${size}`, text: Array.from(name || "?")[0] || "?" });
  if (!url) return initial;
  const img = h("img", {
    class: `avatar ${size}`,
    src: url,
    alt: "",
    loading: "lazy",
    referrerpolicy: "no-referrer",
  });
  img.addEventListener("error", () => img.replaceWith(initial), { once: true });
  return img;
}

// A key for an item that never collides across kinds: what rows, events and reloads agree on.
export function itemKey(kind, id) {
  return `${kind}:${id}`;
}

// A work's cover, or a placeholder when there is none or it does not load.
export function cover(url) {
  const none = h("div", { class: "cover none", text: "🎬" });
  if (!url) return none;
  const img = h("img", { class: "cover", src: url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(none), { once: true });
  return img;
}
