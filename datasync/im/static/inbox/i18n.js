// The page's texts (rendered by Django in the chosen language) and time formatting in Asia/Shanghai.

const strings = JSON.parse(document.getElementById("inbox-strings").textContent);
export const config = JSON.parse(document.getElementById("inbox-config").textContent);

const locale = config.language === "en" ? "en-GB" : "zh-CN";

export function t(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

const absolute = new Intl.DateTimeFormat(locale, {
  timeZone: config.time_zone,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const shortDate = new Intl.DateTimeFormat(locale, {
  timeZone: config.time_zone,
  month: "2-digit",
  day: "2-digit",
});
const numbers = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });

export function timeAbsolute(ms) {
  return `${absolute.format(new Date(ms))} (${config.time_zone})`;
}

export function timeRelative(ms, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return t("time.now");
  if (seconds < 3600) return t("time.minutes", { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t("time.hours", { n: Math.floor(seconds / 3600) });
  if (seconds < 7 * 86400) return t("time.days", { n: Math.floor(seconds / 86400) });
  return shortDate.format(new Date(ms));
}

// <time> showing relative time, the absolute Asia/Shanghai time on hover; refreshed by refreshTimes().
export function timeElement(ms) {
  const el = document.createElement("time");
  el.className = "when";
  el.dateTime = new Date(ms).toISOString();
  el.dataset.ms = String(ms);
  el.title = timeAbsolute(ms);
  el.textContent = timeRelative(ms);
  return el;
}

export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll("time.when")) el.textContent = timeRelative(Number(el.dataset.ms), now);
}

export function formatCount(n) {
  return numbers.format(n || 0);
}
