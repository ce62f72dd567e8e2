"""The texts the desk's scripts show, in the active language (gettext, like the inbox's)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def desk_strings() -> dict[str, str]:
    return {
        "desk.title": _("imhub desk"),
        "status.open": _("Open"),
        "status.pending": _("Pending"),
        "status.snoozed": _("Snoozed"),
        "status.resolved": _("Resolved"),
        "kind.dm": _("DM"),
        "kind.comment": _("Comment"),
        "queue.empty": _("No threads here."),
        "queue.more": _("Load more"),
        "queue.selected": _("{n} selected"),
        "queue.all_matching": _("Select all matching this filter"),
        "queue.all_matching_on": _("Every thread matching this filter"),
        "thread.unassigned": _("Unassigned"),
        "thread.assign_me": _("Assign to me"),
        "thread.resolve": _("Resolve"),
        "thread.reopen": _("Reopen"),
        "thread.snooze": _("Snooze 1 h"),
        "thread.mark_read": _("Mark read"),
        "thread.viewing": _("{names} viewing"),
        "thread.typing": _("{names} typing…"),
        "thread.sent_by": _("sent by {name}"),
        "thread.note": _("Private note"),
        "thread.note_placeholder": _("A note for the team (never sent)"),
        "thread.add_note": _("Add note"),
        "thread.label_placeholder": _("Add label"),
        "thread.waiting": _("waiting {time}"),
        "thread.answered_since": _("{names} answered this thread after you opened it. Send anyway?"),
        "thread.reply_placeholder": _("Reply… / for canned replies"),
        "thread.send": _("Send"),
        "thread.sent": _("Sent"),
        "thread.failed": _("Failed: {detail}"),
        "thread.read_only": _("Read-only: you cannot reply in this team."),
        "customer.other_threads": _("Other threads of this customer"),
        "notify.new_thread": _("New thread from {name}"),
        "notify.assigned": _("Assigned to you: {name}"),
        "notify.sound": _("Sound"),
        "notify.enable": _("Desktop alerts"),
        "bulk.assign_to": _("Assign to…"),
        "filters.name": _("Name of this view"),
        "filters.share": _("Share it with team {team}?"),
        "canned.title": _("Canned replies"),
        "canned.add": _("Add"),
        "canned.shortcut": _("shortcut"),
        "canned.text": _("Text ({name} is the customer's nickname)"),
    }
