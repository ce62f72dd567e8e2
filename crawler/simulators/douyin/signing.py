"""Request signing as the page script does it (`a_bogus`), and its check on the server.

The page script patches `window.fetch` (as the real site's security SDK patches fetch/XHR): every
same-origin API call gets `aid=2906`, device params and `msToken`, then `a_bogus` computed over the
canonical string `<path without trailing slash>?<query as sent, without a_bogus>` keyed with a secret
embedded in the page script. The hash is three rounds of 32-bit FNV-1a (the same code in `creator.js`).
"""

from __future__ import annotations

import hashlib

AID = "2906"
DEVICE_PARAMS = "device_platform=webapp&aid=2906&channel=channel_pc_web&pc_client_type=1&cookie_enabled=true"


def secret_for(seed: int) -> str:
    return hashlib.sha256(f"douyin-sim-signing:{seed}".encode()).hexdigest()[:24]


def _fnv1a(data: bytes, basis: int) -> int:
    value = basis
    for byte in data:
        value ^= byte
        value = (value * 16777619) & 0xFFFFFFFF
    return value


def canonical(path: str, query: str) -> str:
    """The signed string: path without trailing slash, '?', the raw query minus its a_bogus parameter."""
    kept = [part for part in query.split("&") if part and not part.startswith("a_bogus=")]
    return path.rstrip("/") + "?" + "&".join(kept)


def sign(secret: str, path: str, query: str) -> str:
    text = canonical(path, query)
    first = _fnv1a((secret + text).encode(), 0x811C9DC5)
    second = _fnv1a((text + secret).encode(), first)
    third = _fnv1a((secret + text + secret).encode(), second ^ 0x5BD1E995)
    return f"{first:08x}{second:08x}{third:08x}"


def signed_query(secret: str, path: str, query: str, *, ms_token: str = "simMsToken") -> str:
    """What the page would send for `path?query`: the query with device params, msToken and a_bogus."""
    full = "&".join(part for part in (query, DEVICE_PARAMS, f"msToken={ms_token}") if part)
    return full + "&a_bogus=" + sign(secret, path, full)


def check(secret: str, path: str, query: str) -> str:
    """'ok', 'unsigned' (no a_bogus / aid / msToken) or 'bad' (a signature that does not match)."""
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    if not params.get("a_bogus") or not params.get("aid") or not params.get("msToken"):
        return "unsigned"
    return "ok" if params["a_bogus"] == sign(secret, path, query) else "bad"
