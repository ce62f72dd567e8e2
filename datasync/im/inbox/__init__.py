"""The agent inbox: the page agents work in, served by the hub at ``/inbox/`` over the IM API and ``/ws/im/``.

The views here only log in, pick the language and render one page; everything the page shows comes
from the IM API and the live events, read by the plain ES modules under ``datasync/im/static/inbox/``.
"""
