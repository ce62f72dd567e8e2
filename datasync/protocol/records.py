"""Entity records carried by `worker:data:sync` (docs/protocol.md).

Ids are the platform's own strings, unique within an account. Every time is integer epoch
milliseconds, UTC; platform parsers convert units once, before a record is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from datasync.protocol.limits import Id, Int64, Name, RequiredId, Text, Url

EpochMs = Int64  # the hub also checks that times are plausible (`codec.times_check`)
EntityKind = Literal["contents", "comments", "conversations", "messages", "notifications"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("contents", "comments", "conversations", "messages", "notifications")
# kind -> the field holding a record's id (unique within the account and kind); a record of the kind is
# called by the id field's name without "_id" (a "comment" of "comments")
ENTITY_ID_FIELDS: dict[str, str] = {
    "contents": "content_id",
    "comments": "comment_id",
    "conversations": "conversation_id",
    "messages": "message_id",
    "notifications": "notification_id",
}


class Record(BaseModel):
    """Base of every wire model: unknown fields are rejected, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class Stats(Record):
    views: Int64 = 0
    likes: Int64 = 0
    comments: Int64 = 0
    shares: Int64 = 0
    favorites: Int64 = 0


class Person(Record):
    """A platform user as seen by the account: a comment author or a DM peer."""

    id: Id
    sec_uid: Id = ""
    nickname: Name = ""
    avatar_url: Url = ""


AttachmentType = Literal["image", "sticker", "voice", "video"]
ATTACHMENT_TYPES: tuple[str, ...] = ("image", "sticker", "voice", "video")


class Attachment(Record):
    """A media part of a comment or a message: an image, a sticker, a voice clip or a shared video.

    `url` is the media itself (image, sticker, voice) or the shared video's page; `thumb_url` a smaller
    image where the platform gives one; `item_id` the shared video's platform id.
    """

    type: AttachmentType
    url: Url = ""
    thumb_url: Url = ""
    width: Int64 | None = None
    height: Int64 | None = None
    duration_ms: Int64 | None = None
    item_id: Id = ""


class ReplyTo(Record):
    id: Id
    nickname: Name = ""


ContentType = Literal["video", "image", "live", "article", "other"]
CONTENT_TYPES: tuple[str, ...] = ("video", "image", "live", "article", "other")


class Content(Record):
    """A work (video, image post, live, article) of the account.

    `type` is the kind the hub knows ("other" for a kind the adapter does not know); `platform_type` is
    the platform's own type number (Douyin's `aweme_type`), kept as sent, unknown numbers too.
    """

    content_id: RequiredId
    type: ContentType = "video"
    platform_type: Int64 | None = None
    title: Text = ""
    description: Text = ""
    cover_url: Url = ""
    url: Url = ""
    published_at: EpochMs
    stats: Stats = Field(default_factory=Stats)
    visibility: Literal["public", "private", "friends", "unknown"] = "public"


class Comment(Record):
    """A comment on a work (parent_id null) or a reply to a comment (parent_id = top-level comment id)."""

    comment_id: RequiredId
    content_id: RequiredId
    parent_id: Id | None = None
    author: Person
    text: Text = ""
    created_at: EpochMs
    likes: Int64 = 0
    reply_count: Int64 = 0
    is_author: bool = False
    reply_to: ReplyTo | None = None
    reply_to_reply_id: Id | None = None  # third level: the reply (within the thread) this one answers
    ip_label: Name = ""
    attachments: list[Attachment] = Field(default_factory=list)  # images, stickers (text may be empty)


class Conversation(Record):
    """A private-message conversation of the account with one peer."""

    conversation_id: RequiredId
    peer: Person
    last_message_at: EpochMs | None = None
    last_message_preview: Text = ""
    platform_unread: Int64 = 0


class Message(Record):
    """One private message; direction `out` is the account's own."""

    message_id: RequiredId
    conversation_id: RequiredId
    direction: Literal["in", "out"]
    sender_id: Id = ""
    text: Text = ""
    msg_type: Name = "text"
    created_at: EpochMs
    attachments: list[Attachment] = Field(default_factory=list)  # image, sticker, voice, shared video


class Notification(Record):
    notification_id: RequiredId
    type: Name = ""
    text: Text = ""
    created_at: EpochMs
    related_content_id: Id | None = None
    related_comment_id: Id | None = None


class Entities(Record):
    """The records of one sync frame, by kind."""

    contents: list[Content] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    conversations: list[Conversation] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    notifications: list[Notification] = Field(default_factory=list)

    def count(self) -> int:
        return (
            len(self.contents)
            + len(self.comments)
            + len(self.conversations)
            + len(self.messages)
            + len(self.notifications)
        )


class Deleted(Record):
    """Ids removed on the platform, by kind (the only way data is ever removed)."""

    contents: list[Id] = Field(default_factory=list)
    comments: list[Id] = Field(default_factory=list)
    conversations: list[Id] = Field(default_factory=list)
    messages: list[Id] = Field(default_factory=list)
    notifications: list[Id] = Field(default_factory=list)

    def count(self) -> int:
        return sum(len(getattr(self, kind)) for kind in ENTITY_KINDS)


class Profile(Record):
    """The account's own profile as read from the platform."""

    platform_user_id: Id = ""
    nickname: Name = ""
    avatar_url: Url = ""
    followers: Int64 | None = None
    following: Int64 | None = None
