"""WSGI entry point, for serving plain HTTP with a WSGI server when load matters."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imhub.settings")
application = get_wsgi_application()
