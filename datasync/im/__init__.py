"""The IM app (Django label ``im``): everything agents use, over the sync core (``datasync``).

The IM API (``api/``: viewsets, the read lane and its queries, who may see which account), the inbox
page (``inbox/``, ``templates/``, ``static/``, ``locale/``), read marks, replies, agent events and their
WebSocket (``consumers.py`` at ``/ws/im/``). It depends on the core (store, runtime, fan-out,
persistence, protocol) and on ``accounts``; the core never imports it. What it runs in a hub process
is listed in ``wiring.py`` and composed with the core's by the project (``imhub/wiring.py``).
"""
