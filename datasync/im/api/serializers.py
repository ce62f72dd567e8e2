"""IM API serializers: query/body parameters (validated here, so a 400 names the parameter) and the
response shapes for the OpenAPI schema. List responses are built from store dicts directly; the output
serializers below document them and are not run per item (that would cost more than the query)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.models import ACCOUNT_PUBLIC_FIELDS, Account
from datasync.store import CONTENT_ORDERINGS

MAX_LIMIT = 100


# ids and times in requests fit the database's 64-bit integers: a larger number is a 400, never a 500
MAX_ID = 2**63 - 1


class PageParams(serializers.Serializer):
    cursor = serializers.CharField(
        required=False, allow_blank=False, help_text="Opaque cursor from `next_cursor`."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=20)


class AccountParams(PageParams):
    account_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class MessagesParams(AccountParams):
    conversation_id = serializers.CharField()


class ContentsParams(AccountParams):
    ordering = serializers.ChoiceField(choices=CONTENT_ORDERINGS, required=False, default="-published_at")


class DiscussionsParams(AccountParams):
    content_id = serializers.CharField(required=False)
    parent_id = serializers.CharField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("content_id") and not attrs.get("parent_id"):
            raise serializers.ValidationError({"content_id": "content_id or parent_id is required"})
        return attrs


class UnifiedParams(AccountParams):
    types = serializers.ChoiceField(choices=["all", "comments", "messages"], required=False, default="all")
    unread = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(
        required=False, max_length=100, help_text="keep rows whose text or author contains this"
    )


class AccountIdParam(serializers.Serializer):
    account_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class ReadMarkBody(serializers.Serializer):
    account_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    target = serializers.ChoiceField(choices=["items", "conversation", "content"])
    kind = serializers.ChoiceField(choices=["comments", "messages"], required=False)
    ids = serializers.ListField(child=serializers.CharField(), required=False, max_length=500)
    conversation_id = serializers.CharField(required=False)
    content_id = serializers.CharField(required=False)


class ReplyTargetBody(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["comment", "work", "message"])
    content_id = serializers.CharField(required=False, allow_null=True)
    comment_id = serializers.CharField(required=False, allow_null=True)
    conversation_id = serializers.CharField(required=False, allow_null=True)


class ReplyBody(serializers.Serializer):
    account_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    target = ReplyTargetBody()
    text = serializers.CharField(max_length=2000)
    idempotency_key = serializers.CharField(max_length=200)
    retry_of = serializers.UUIDField(
        required=False, allow_null=True, help_text="The earlier try (failed or unknown) this one retries."
    )
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Required (true) to retry an unknown reply, which may already be posted (409 otherwise).",
    )


# ---- response shapes (schema only) ---------------------------------------------------------------


class UnreadOut(serializers.Serializer):
    comments = serializers.IntegerField()
    messages = serializers.IntegerField()
    total = serializers.IntegerField()


class AccountOut(serializers.ModelSerializer[Account]):
    """An account row (``accounts.models.ACCOUNT_PUBLIC_FIELDS``) with the store's figures."""

    unread = UnreadOut()
    counts = serializers.DictField(child=serializers.IntegerField())
    last_activity = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Account
        fields = [*ACCOUNT_PUBLIC_FIELDS, "unread", "counts", "last_activity"]


@extend_schema_serializer(many=False)  # a list route answers one envelope, not an array
class PageOut(serializers.Serializer):
    results = serializers.ListField(child=serializers.DictField())
    next = serializers.CharField(allow_null=True, help_text="The next page's URL (null on the last page).")
    next_cursor = serializers.CharField(allow_null=True, help_text="The next page's `cursor` (opaque).")


def page_of(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The page envelope of a list route whose items are `item`s (`{results, next, next_cursor}`)."""
    page = type(name, (PageOut,), {"results": item(many=True), "__module__": __name__})
    return extend_schema_serializer(many=False)(page)


AccountPageOut = page_of(AccountOut, "AccountPageOut")


class ReadMarkOut(serializers.Serializer):
    id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    target = serializers.CharField()
    marked = serializers.IntegerField(help_text="Items this mark made read.")
    marked_by = serializers.IntegerField(allow_null=True)
    marked_at = serializers.CharField()
    unread = UnreadOut()


class ReplyQueueOut(serializers.Serializer):
    position = serializers.IntegerField(help_text="1: the account's next write.")
    eta = serializers.DateTimeField(
        help_text="When the write policy lets it go (gap, caps, quiet hours, hold)."
    )


class ReplyOut(serializers.Serializer):
    id = serializers.UUIDField()
    account_id = serializers.IntegerField()
    target = ReplyTargetBody()
    text = serializers.CharField()
    idempotency_key = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "sent", "failed", "unknown"])
    retry_of = serializers.UUIDField(allow_null=True)
    attempt = serializers.IntegerField()
    platform_reply_id = serializers.CharField(allow_null=True)
    error_code = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    created_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.CharField()
    dispatched_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    queue = ReplyQueueOut(allow_null=True, help_text="Its place while it waits in the account's write queue.")
