// The IM API over the session cookie: GETs as documented, POSTs with Django's CSRF token.

import { config } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function decode(response) {
  const body = await response.json().catch(() => null);
  if (response.status === 401 || response.status === 403) {
    if (body && /credentials|authenticat/i.test(body.detail || "")) window.location.assign("/inbox/login/");
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function apiGet(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, value);
  }
  const qs = query.toString();
  const response = await fetch(`${config.api}${path}${qs ? `?${qs}` : ""}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  return decode(response);
}

export async function apiPost(path, body) {
  const response = await fetch(`${config.api}${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  return decode(response);
}

export async function apiDelete(path) {
  const response = await fetch(`${config.api}${path}`, {
    method: "DELETE",
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
  });
  if (response.status === 204) return null;
  return decode(response);
}

// A fresh idempotency key per send (works on plain http too, unlike crypto.randomUUID).
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
