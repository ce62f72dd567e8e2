"""Home-page parsers: the profile texts (抖音号, nickname, follower counts)."""

from __future__ import annotations

from crawler.platforms.douyin import locators
from datasync.protocol import Profile


def short_count_parse(text: str) -> int | None:
    """Counts as the home page shows them: "987", "1.2w", "3.4万" -> int; None when unreadable."""
    text = text.strip().lower()
    if not text:
        return None
    factor = 10000 if text[-1] in ("w", "万") else 1
    try:
        return round(float(text.rstrip("w万")) * factor)
    except ValueError:
        return None


def profile_parse(
    *, unique_id_text: str, nickname: str, avatar_url: str, followers: str = "", following: str = ""
) -> Profile:
    """The home page's profile texts -> a profile."""
    match = locators.UNIQUE_ID_RE.search(unique_id_text)
    return Profile(
        platform_user_id=match.group(1) if match else "",
        nickname=nickname.strip(),
        avatar_url=avatar_url,
        followers=short_count_parse(followers),
        following=short_count_parse(following),
    )
