"""Issue 25 #6: every HTML page runs under a strict Content-Security-Policy (no inline script, no CDN,
images from the hub, data URLs and the platform's image hosts only); Swagger UI is served from the
installed package; the schema and the docs need a login; /metrics is closed in production without its
token. JSON answers carry no policy (the read lane answers them byte for byte like Django)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def _directives(response: Any) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


@pytest.mark.parametrize("path", ["/inbox/", "/desk/", "/admin/", "/admin/dashboard/", "/api/docs/"])
def test_every_html_page_runs_under_a_strict_policy(staff_client: Client, path: str) -> None:
    # when a logged-in user opens the page
    response = staff_client.get(path)
    # then it is HTML with a policy that allows this site's scripts only and no inline script
    assert response.status_code == 200
    directives = _directives(response)
    assert directives["script-src"] == "script-src 'self'"
    assert directives["connect-src"] == "connect-src 'self'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    # images: the hub, data URLs (QR codes) and the platform's image hosts only: a fan's avatar URL on
    # any other host is not loaded (the agent's browser never calls it)
    assert directives["img-src"] == (
        "img-src 'self' data: blob: https://*.douyinpic.com https://*.douyinstatic.com https://*.byteimg.com"
    )
    # and the page itself has no inline script (a JSON data block is not a script)
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_login_pages_run_under_the_policy_too() -> None:
    for path in ("/inbox/login/", "/admin/login/"):
        response = Client().get(path)
        assert response.status_code == 200
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_swagger_ui_comes_from_the_hub_not_a_cdn(staff_client: Client) -> None:
    html = staff_client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "cdn" not in html.lower()


def test_schema_and_docs_need_a_login(staff_client: Client) -> None:
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code in (401, 403)
    assert anonymous.get("/api/docs/").status_code in (401, 403)
    assert staff_client.get("/api/schema/").status_code == 200


def test_json_answers_carry_no_policy(staff_client: Client) -> None:
    response = staff_client.get("/api/desk/me/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_metrics_are_closed_in_production_without_a_token(settings: Any) -> None:
    settings.IMHUB_ENV = "production"
    settings.IMHUB_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 403
    settings.IMHUB_METRICS_TOKEN = "t" * 40
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 40).status_code == 200
    settings.IMHUB_ENV = "development"
    settings.IMHUB_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 200
