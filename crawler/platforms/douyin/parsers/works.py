"""Works parsers: `work_list` (aweme_list + items[i].metrics) and the comment page's item list
(`item_info_list` as captured: encrypted `item_id`, the id to use in `item_id_plain`, display times)."""

from __future__ import annotations

from typing import Any

from crawler.platforms import DriftNote
from crawler.platforms.douyin.parsers.common import (
    Parsed,
    api_body_check,
    as_int,
    body_list,
    epoch_ms,
    first_url,
    has_more,
    records_parse,
)
from datasync.protocol import Content, Stats

# aweme_type: 0 and 4 are videos; 2, 68 and 150 image posts. Another number is kept as `platform_type`
# with `type` "other", never guessed.
CONTENT_TYPES = {0: "video", 4: "video", 2: "image", 68: "image", 150: "image"}
# the item list's media_type (no aweme_type there): 4 video, 2 image post
MEDIA_TYPES = {4: "video", 2: "image"}


def work_type(aweme_type: Any) -> tuple[str, int | None]:
    """(`type`, `platform_type`) of an `aweme_type`: a number no table knows is "other", kept as sent."""
    if aweme_type is None or aweme_type == "":
        return "video", None
    number = as_int(aweme_type, -1)
    return CONTENT_TYPES.get(number, "other"), number


def work_parse(*, aweme: dict[str, Any], metrics: dict[str, Any] | None = None) -> Content:
    """One `aweme_list` entry (+ its `items[i].metrics`, which win over `statistics`)."""
    statistics = aweme.get("statistics") or {}
    metrics = metrics or {}

    def stat(metric: str, statistic: str) -> int:
        if metrics.get(metric) not in (None, ""):
            return as_int(metrics.get(metric))
        return as_int(statistics.get(statistic))

    status = aweme.get("status") or {}
    kind, platform_type = work_type(aweme.get("aweme_type"))
    return Content(
        content_id=str(aweme["aweme_id"]),
        type=kind,  # type: ignore[arg-type]
        platform_type=platform_type,
        title=str(aweme.get("desc") or ""),
        description=str(aweme.get("desc") or ""),
        cover_url=first_url((aweme.get("video") or {}).get("cover")),
        url=str(aweme.get("share_url") or ""),
        published_at=epoch_ms(aweme["create_time"], field="create_time"),
        stats=Stats(
            views=stat("view_count", "play_count"),
            likes=stat("like_count", "digg_count"),
            comments=stat("comment_count", "comment_count"),
            shares=stat("share_count", "share_count"),
            favorites=stat("favorite_count", "collect_count"),
        ),
        visibility="private" if status.get("is_private") else "public",
    )


def work_item_parse(*, item: dict[str, Any]) -> Content:
    """One `item_info_list` entry: the work is `item_id_plain` (`item_id` is encrypted), its time the
    display text `发布于2025年10月27日 10:42`, its kind `media_type` (or `aweme_type` where sent)."""
    plain = item.get("item_id_plain")
    if plain in (None, "") and not str(item.get("item_id") or "").startswith("@"):
        plain = item.get("item_id")  # an entry whose only id is already plain
    if plain in (None, ""):
        raise KeyError("item_id_plain")
    metrics = item.get("metrics") or {}
    if "aweme_type" in item:
        kind, platform_type = work_type(item.get("aweme_type"))
    else:
        media = as_int(item.get("media_type"), -1)
        kind, platform_type = MEDIA_TYPES.get(media, "other"), None
    title = str(item.get("title") or item.get("desc") or "")
    comments = item.get("comment_count", metrics.get("comment_count"))
    return Content(
        content_id=str(plain),
        type=kind,  # type: ignore[arg-type]
        platform_type=platform_type,
        title=title,
        description=str(item.get("desc") or title),
        cover_url=str(item.get("cover_image_url") or first_url(item.get("cover"))),
        url=str(item.get("item_link") or item.get("share_url") or ""),
        published_at=epoch_ms(item["create_time"], field="create_time"),
        stats=Stats(
            views=as_int(metrics.get("view_count")),
            likes=as_int(metrics.get("like_count")),
            comments=as_int(comments),
            shares=as_int(metrics.get("share_count")),
            favorites=as_int(metrics.get("favorite_count")),
        ),
        visibility="private" if (item.get("status") or {}).get("is_private") else "public",
    )


def works_total(body: dict[str, Any]) -> int:
    """How many works a works body says the account has (`total` or `total_count`; 0 when absent)."""
    return as_int(body.get("total"), 0) or as_int(body.get("total_count"), 0)


def work_list_parse(*, body: Any, status: int = 200) -> Parsed[Content]:
    """A works body (`work_list`: aweme_list + items[i].metrics; or the item list: item_info_list)."""
    body = api_body_check(body=body, what="work_list", status=status)
    skipped: list[DriftNote] = []
    key, entries = body_list(body=body, what="work_list", keys=("aweme_list", "item_info_list"))
    if key == "item_info_list":
        works = records_parse(
            items=entries,
            what="work_list.item_info_list",
            parse=lambda i: work_item_parse(item=i),
            skipped=skipped,
        )
        return Parsed(works, has_more(body.get("has_more")), skipped)
    items = body.get("items") or []

    def one(pair: tuple[int, Any]) -> Content:
        index, aweme = pair
        item = items[index] if index < len(items) and isinstance(items[index], dict) else {}
        return work_parse(aweme=aweme, metrics=item.get("metrics"))

    works = records_parse(
        items=list(enumerate(entries)), what="work_list.aweme_list", parse=one, skipped=skipped
    )
    for note in skipped:
        note.sample = note.sample[1] if isinstance(note.sample, tuple) else note.sample
    return Parsed(works, has_more(body.get("has_more")), skipped)
