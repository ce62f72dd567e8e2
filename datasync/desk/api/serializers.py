"""Desk API bodies and parameters (validated here, so a 400 names the field) and response shapes for
the OpenAPI schema. Queue rows are built from the index's dicts directly."""

from __future__ import annotations

from rest_framework import serializers

from datasync.desk.index import KINDS, STATUSES
from datasync.desk.states import ACTIONS, MAX_THREADS
from datasync.im.api.serializers import MAX_ID, PageParams, page_of


class QueueParams(PageParams):
    status = serializers.ChoiceField(choices=[*STATUSES, "all"], required=False, default="open")
    assignee = serializers.CharField(required=False, help_text="me, none, any or a user id")
    account_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=list(KINDS), required=False)
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)
    label = serializers.CharField(required=False)
    customer_id = serializers.CharField(required=False)
    ordering = serializers.ChoiceField(
        choices=["waiting", "newest"], required=False, default="waiting", help_text="waiting: longest first"
    )


class ThreadOut(serializers.Serializer):
    id = serializers.CharField(help_text="<account id>:<dm|comment>:<conversation or top comment id>")
    account_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    status = serializers.ChoiceField(choices=list(STATUSES))
    assignee_id = serializers.IntegerField(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())
    customer = serializers.DictField(allow_null=True)
    last_text = serializers.CharField()
    last_media = serializers.CharField(
        help_text="image, sticker, voice or video: a media item without text; else empty"
    )
    waiting_since = serializers.IntegerField(allow_null=True, help_text="epoch ms")
    unread = serializers.IntegerField()


class BulkBody(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(ACTIONS))
    ids = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=MAX_THREADS, help_text="thread ids"
    )
    filter = serializers.DictField(
        required=False,
        help_text=f"instead of ids: every thread matching these queue parameters (at most {MAX_THREADS})",
    )
    assignee_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="assign: null unassigns"
    )
    until = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, help_text="snooze: epoch ms"
    )
    label = serializers.CharField(required=False, max_length=40)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("ids") and attrs.get("filter") is None:
            raise serializers.ValidationError({"ids": "ids or filter is required"})
        if attrs["action"] == "assign" and "assignee_id" not in attrs:
            raise serializers.ValidationError({"assignee_id": "required for assign (null unassigns)"})
        return attrs


class ThreadReplyBody(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    idempotency_key = serializers.CharField(max_length=200)
    opened_at = serializers.IntegerField(
        min_value=0, max_value=MAX_ID, help_text="as_of of the thread read the agent saw"
    )
    confirm = serializers.BooleanField(required=False, default=False)
    reply_to = serializers.CharField(required=False, help_text="comment threads: the comment answered")


class NoteBody(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class PresenceBody(serializers.Serializer):
    state = serializers.ChoiceField(choices=["viewing", "typing", "left"])


class CannedBody(serializers.Serializer):
    team_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    shortcut = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    text = serializers.CharField(max_length=2000)


class OnlineBody(serializers.Serializer):
    available = serializers.BooleanField(required=False, help_text="omit to keep the current switch")


class SavedFilterBody(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    view = serializers.ChoiceField(choices=["mine", "unassigned", "all"])
    params = serializers.DictField(required=False, help_text="the queue's parameters")
    team_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="share with this team"
    )


ThreadPageOut = page_of(ThreadOut, "ThreadPageOut")
