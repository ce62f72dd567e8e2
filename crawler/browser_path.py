"""Find a Chromium for Playwright: Playwright's own build if installed, else the system's.

`python -m crawler.browser_path` prints the path and exits 0, or exits 1 when none is found.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags the browser needs here: no sandbox as root, and no background traffic on a closed network.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _playwright_chromium() -> str | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def chromium_executable() -> str | None:
    """Path of the Chromium to launch: the `IMHUB_CHROMIUM` setting, Playwright's own, or a system Chromium."""
    from django.conf import settings

    explicit = settings.IMHUB_CHROMIUM
    if explicit:
        return explicit if Path(explicit).exists() else None
    own = _playwright_chromium()
    if own:
        return own
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_launch_args() -> list[str]:
    """Command-line flags for Chromium; adds --no-sandbox when running as root."""
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
    path = chromium_executable()
    if not path:
        sys.exit(1)
    print(path)
