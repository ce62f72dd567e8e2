"""A minimal second platform, used only by tests: one list page whose script fetches `/api/notes`.

It proves the worker knows platforms only through the adapter protocol: this folder's adapter is
registered under the name "fakelist" through the same registry the worker uses, and runs through the
real runner, data manager and outbox with Chromium driving its page.
"""
