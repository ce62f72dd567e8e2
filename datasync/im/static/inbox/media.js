// A record's text and attachments as elements: Douyin's bracket emoji codes ([赞]) drawn as emoji where
// known, image and sticker thumbnails, a labelled chip for a voice clip or a shared video. Media URLs
// go through `mediaUrl` only (the one check: http(s) only; a host allow-list may come later).

import { h } from "./dom.js";
import { t } from "./i18n.js";

// The common codes of Douyin's emoji panel; an unknown code stays as written.
const EMOJI = {
  "[赞]": "👍", "[微笑]": "🙂", "[大笑]": "😄", "[笑哭]": "😂", "[捂脸]": "🤦", "[哭]": "😢", "[流泪]": "😭",
  "[爱心]": "❤️", "[心碎]": "💔", "[玫瑰]": "🌹", "[鼓掌]": "👏", "[握手]": "🤝", "[抱拳]": "🙏", "[比心]": "🫰",
  "[强]": "💪", "[OK]": "👌", "[呲牙]": "😁", "[害羞]": "😊", "[色]": "😍", "[亲亲]": "😘", "[酷拽]": "😎",
  "[惊讶]": "😮", "[生气]": "😠", "[发怒]": "😡", "[疑问]": "❓", "[思考]": "🤔", "[睡]": "😴", "[晕]": "😵",
  "[再见]": "👋", "[偷笑]": "🤭", "[可怜]": "🥺", "[调皮]": "😜", "[尴尬]": "😅", "[无语]": "😑", "[吐]": "🤮",
  "[666]": "6️⃣6️⃣6️⃣", "[火]": "🔥", "[礼物]": "🎁", "[蛋糕]": "🎂", "[庆祝]": "🎉", "[太阳]": "☀️", "[月亮]": "🌙",
  "[咖啡]": "☕", "[啤酒]": "🍺", "[西瓜]": "🍉", "[红包]": "🧧", "[加油]": "💪", "[耶]": "✌️", "[拳头]": "👊",
};

// The URL to load, or null: only http(s) URLs are ever rendered.
export function mediaUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function emojiText(text) {
  return String(text || "").replace(/\[[^\[\]]{1,8}\]/g, (code) => EMOJI[code] ?? code);
}

function thumbnail(part, kind) {
  const src = mediaUrl(part.thumb_url) || mediaUrl(part.url);
  if (!src) return h("span", { class: `attachment chip ${kind}`, text: t(`media.${kind}`) });
  return h("img", { class: `attachment ${kind}`, src, alt: t(`media.${kind}`), loading: "lazy", referrerpolicy: "no-referrer" });
}

function chip(part, kind) {
  const seconds = part.duration_ms ? ` ${Math.round(part.duration_ms / 1000)}″` : "";
  const label = `${kind === "voice" ? "🎙" : "🎬"} ${t(`media.${kind}`)}${seconds}`;
  const href = kind === "video" ? mediaUrl(part.url) : null;
  return href
    ? h("a", { class: `attachment chip ${kind}`, href, target: "_blank", rel: "noopener noreferrer", text: label })
    : h("span", { class: `attachment chip ${kind}`, text: label });
}

// Attachment type -> how it is drawn; an unknown type is a plain chip.
const DRAW = { image: thumbnail, sticker: thumbnail, voice: chip, video: chip };

export function attachmentParts(record) {
  const parts = Array.isArray(record.attachments) ? record.attachments : [];
  if (!parts.length) return null;
  return h("div", { class: "attachments" },
    parts.map((part) => (DRAW[part.type] || ((p) => h("span", { class: "attachment chip other", text: t("media.other") })))(part, part.type)));
}

// A list row's stand-in for a media item without text: "[图片]", "[语音消息]", ... (one per part).
export function mediaLabel(types) {
  return (types || []).filter(Boolean).map((type) => `[${t(`media.${type}`)}]`).join(" ");
}
