"""The texts the inbox's scripts show, translated in the active language and rendered into the page.

Keys are what the scripts ask for; values go through gettext like the templates' texts, so one
catalogue (``datasync/locale``) holds every inbox string. ``{name}`` placeholders are filled by the page.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


def inbox_strings() -> dict[str, str]:
    """Every script text in the active language."""
    return {
        "login.logged_in": _("Logged in"),
        "login.logging_in": _("Logging in"),
        "login.not_logged_in": _("Not logged in"),
        "login.expired": _("Login expired"),
        "runner.starting": _("Starting"),
        "runner.crawling": _("Crawling"),
        "runner.running": _("Running"),
        "runner.idle": _("Idle"),
        "runner.stopped": _("Stopped"),
        "runner.cooldown": _("Cooling down"),
        "listener.listening": _("Live"),
        "listener.polling": _("Polling"),
        "listener.reinstalling": _("Reconnecting"),
        "runner.backoff": _("Failing, retrying"),
        "badge.comments": _("Unread comments"),
        "badge.messages": _("Unread DMs"),
        "accounts.empty": _("No accounts are assigned to your team."),
        "list.empty": _("Nothing here."),
        "list.loading": _("Loading…"),
        "list.end": _("No more items."),
        "list.pick_account": _("Choose an account."),
        "row.unread": _("Unread"),
        "row.comment_on": _("Comment on {title}"),
        "row.dm": _("DM"),
        "row.untitled": _("Untitled work"),
        "row.you": _("You"),
        "detail.empty": _("Open a comment or a conversation."),
        "detail.load_older": _("Scroll up for older messages"),
        "detail.no_older": _("Start of the conversation"),
        "detail.reply_count": _("{n} replies"),
        "detail.view_replies": _("View replies"),
        "detail.mark_conversation": _("Mark conversation read"),
        "detail.mark_work": _("Mark all comments read"),
        "detail.open_work": _("Open the work's comments"),
        "detail.author": _("Author"),
        "detail.reply_to": _("Reply to {name}"),
        "reply.pending": _("Sending…"),
        "reply.sent": _("Sent"),
        "reply.failed": _("Failed: {reason}"),
        "reply.retry": _("Retry"),
        "reply.target_comment": _("Replying to {name}"),
        "reply.target_work": _("Commenting on the work"),
        "reply.target_dm": _("Message to {name}"),
        "reply.error": _("The hub refused the reply: {reason}"),
        "stats.views": _("Views"),
        "stats.likes": _("Likes"),
        "stats.comments": _("Comments"),
        "stats.shares": _("Shares"),
        "stats.favorites": _("Favorites"),
        "stats.published_at": _("Published"),
        "works.empty": _("No works yet."),
        "works.unread": _("{n} unread"),
        "live.reconnecting": _("Connection lost. Reconnecting…"),
        "time.now": _("just now"),
        "time.minutes": _("{n} min ago"),
        "time.hours": _("{n} h ago"),
        "time.days": _("{n} d ago"),
        "error.load": _("Could not load: {reason}"),
    }
