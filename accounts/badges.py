"""Coloured status badges for the admin (format_html spans; values are escaped)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

GREEN, BLUE, ORANGE, RED, GREY = "#2e7d32", "#1565c0", "#ef6c00", "#c62828", "#757575"

COLOURS: dict[str, dict[str, str]] = {
    "status": {"active": GREEN, "paused": GREY},
    "login": {"logged_in": GREEN, "logging_in": BLUE, "expired": ORANGE, "not_logged_in": GREY},
    "listener": {"listening": GREEN, "reinstalling": BLUE, "polling": ORANGE, "off": GREY},
    "runner": {
        "running": GREEN,
        "crawling": GREEN,
        "idle": GREY,
        "starting": BLUE,
        "backoff": ORANGE,
        "cooldown": ORANGE,
        "stopped": RED,
        "error": RED,
        "surface_changed": RED,
    },
    "worker": {"online": GREEN, "offline": RED},
    "session": {
        "pending": GREY,
        "qrcode_ready": BLUE,
        "qrcode_refreshed": BLUE,
        "scanned": ORANGE,
        "success": GREEN,
        "failed": RED,
        "timeout": RED,
    },
}


def badge(kind: str, value: str, label: str | None = None) -> SafeString:
    """A rounded coloured label for `value` of `kind` (unknown values are grey)."""
    colour = COLOURS.get(kind, {}).get(value, GREY)
    return format_html(
        '<span class="imhub-badge" data-value="{}" style="background:{};color:#fff;padding:1px 8px;'
        'border-radius:9px;font-size:11px;white-space:nowrap">{}</span>',
        value,
        colour,
        label if label is not None else (value or "—").replace("_", " "),
    )
