"""Works parsers: `work_list` (aweme_list + items[i].metrics) and the second works API (item_info_list)."""

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

CONTENT_TYPES = {0: "video", 4: "live", 68: "image", 2: "image", 150: "image"}


def work_parse(*, aweme: dict[str, Any], metrics: dict[str, Any] | None = None) -> Content:
    """One `aweme_list` entry (+ its `items[i].metrics`, which win over `statistics`)."""
    statistics = aweme.get("statistics") or {}
    metrics = metrics or {}

    def stat(metric: str, statistic: str) -> int:
        if metrics.get(metric) not in (None, ""):
            return as_int(metrics.get(metric))
        return as_int(statistics.get(statistic))

    status = aweme.get("status") or {}
    return Content(
        content_id=str(aweme["aweme_id"]),
        type=CONTENT_TYPES.get(as_int(aweme.get("aweme_type")), "video"),  # type: ignore[arg-type]
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
    """One `item_info_list` entry of the second works API."""
    metrics = item.get("metrics") or {}
    cover = item.get("cover") or {}
    status = item.get("status") or {}
    title = str(item.get("title") or item.get("desc") or "")
    return Content(
        content_id=str(item["item_id"]),
        type=CONTENT_TYPES.get(as_int(item.get("aweme_type", item.get("media_type"))), "video"),  # type: ignore[arg-type]
        title=title,
        description=str(item.get("desc") or title),
        cover_url=str(item.get("cover_image_url") or first_url(cover)),
        url=str(item.get("share_url") or ""),
        published_at=epoch_ms(item.get("create_time") or item["publish_time"], field="create_time"),
        stats=Stats(
            views=as_int(metrics.get("view_count")),
            likes=as_int(metrics.get("like_count")),
            comments=as_int(metrics.get("comment_count")),
            shares=as_int(metrics.get("share_count")),
            favorites=as_int(metrics.get("favorite_count")),
        ),
        visibility="private" if status.get("is_private") or item.get("is_private") else "public",
    )


def work_list_parse(*, body: Any) -> Parsed[Content]:
    """A works body (`work_list`: aweme_list + items[i].metrics; or the second API: item_info_list)."""
    body = api_body_check(body=body, what="work_list")
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
