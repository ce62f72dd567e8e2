"""The IM app takes over ReadMark and ReplyRequest from `datasync` with their tables and rows.

The tables were created by `datasync.0002_readmark_replyrequest` and keep their names (`db_table`), so
this migration changes Django's model state only (`SeparateDatabaseAndState`): an existing database
keeps every read mark and reply. Their content types move along (permissions granted on them stay).
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("readmark", "replyrequest")


def content_types_move(apps, schema_editor, *, source="datasync", target="im"):
    """The two models' content types (and so their permissions) follow them to the new app label."""
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="im", target="datasync")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_worker_max_accounts"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("datasync", "0006_readmark_replyrequest_to_im"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReadMark",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "target",
                            models.CharField(
                                choices=[
                                    ("items", "Items"),
                                    ("conversation", "Conversation"),
                                    ("content", "A work's comments"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                blank=True, default="", help_text="comments or messages (items only)", max_length=16
                            ),
                        ),
                        ("ids", models.JSONField(blank=True, default=list)),
                        ("conversation_id", models.CharField(blank=True, default="", max_length=255)),
                        ("content_id", models.CharField(blank=True, default="", max_length=255)),
                        ("up_to", models.BigIntegerField(blank=True, help_text="Epoch ms, inclusive.", null=True)),
                        ("marked_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="read_marks",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "marked_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="read_marks",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "datasync_readmark",
                        "ordering": ["id"],
                        "indexes": [models.Index(fields=["account", "id"], name="datasync_re_account_359c23_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="ReplyRequest",
                    fields=[
                        (
                            "id",
                            models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
                        ),
                        ("target_kind", models.CharField(help_text="comment, work or message", max_length=16)),
                        ("content_id", models.CharField(blank=True, default="", max_length=255)),
                        ("comment_id", models.CharField(blank=True, default="", max_length=255)),
                        ("conversation_id", models.CharField(blank=True, default="", max_length=255)),
                        ("text", models.TextField()),
                        ("idempotency_key", models.CharField(max_length=200)),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("platform_reply_id", models.CharField(blank=True, default="", max_length=255)),
                        ("error_code", models.CharField(blank=True, default="", max_length=64)),
                        ("error_message", models.TextField(blank=True, default="")),
                        (
                            "worker_id",
                            models.CharField(
                                blank=True, default="", help_text="Worker it was sent to.", max_length=100
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("dispatched_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="replies",
                                to="accounts.account",
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="replies",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "datasync_replyrequest",
                        "ordering": ["created_at"],
                        "indexes": [
                            models.Index(fields=["status", "created_at"], name="datasync_re_status_ab3d65_idx")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("account", "idempotency_key"), name="datasync_reply_idempotency"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
