"""The WSGI fast path answers the IM list routes exactly like the DRF viewsets (bodies, errors, auth)."""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im_fixtures)
from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from datasync.api.fastpath import fastpath_wsgi
from imhub.wsgi import application as django_application
from tests.datasync.im_fixtures import Team, installed_store, team  # noqa: F401

pytestmark = pytest.mark.django_db

fast_app = fastpath_wsgi(django_application)


def _fast(path: str, params: dict[str, Any], token: str) -> tuple[int, Any, bool]:
    """(status, body, answered by the fast path) through the wrapped WSGI app."""
    environ = RequestFactory().get(path, params, HTTP_AUTHORIZATION=f"Token {token}").environ
    reached_django = []

    def spy(env: dict[str, Any], start_response: Any) -> Any:
        reached_django.append(True)
        return django_application(env, start_response)

    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])

    body = b"".join(fastpath_wsgi(spy)(environ, start_response))
    return seen["status"], json.loads(body), not reached_django


def _drf(path: str, params: dict[str, Any], token: str) -> tuple[int, Any]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(path, params)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/im/conversations/", {}),
        ("/api/im/conversations/", {"limit": 1}),
        ("/api/im/messages/", {"conversation_id": "v1"}),
        ("/api/im/messages/", {}),
        ("/api/im/contents/", {"ordering": "-likes", "limit": 1}),
        ("/api/im/contents/", {"ordering": "bogus"}),
        ("/api/im/discussions/", {"content_id": "w1", "limit": 2}),
        ("/api/im/discussions/", {"parent_id": "nope"}),
        ("/api/im/unified-messages/", {"limit": 3}),
        ("/api/im/unified-messages/", {"unread": "true", "types": "messages"}),
        ("/api/im/unified-messages/", {"cursor": "garbage"}),
        ("/api/im/unified-messages/", {"limit": 500}),
        ("/api/im/unified-messages/stats/", {}),
    ],
)
def test_fast_path_matches_drf(team: Team, path: str, params: dict[str, Any]) -> None:
    # given
    token = Token.objects.create(user=team.agent).key
    params = {"account_id": team.account.id, **params}
    # when
    fast_status, fast_body, fast = _fast(path, params, token)
    drf_status, drf_body = _drf(path, params, token)
    # then
    assert fast is True
    assert (fast_status, fast_body) == (drf_status, drf_body)


def test_fast_path_hides_other_teams_and_refuses_bad_tokens(team: Team) -> None:
    # given
    token = Token.objects.create(user=team.agent).key
    # when
    hidden = _fast("/api/im/unified-messages/", {"account_id": team.other_account.id}, token)
    bad = _fast("/api/im/unified-messages/", {"account_id": team.account.id}, "0" * 40)
    # then
    assert hidden == (404, {"error": "not_found", "detail": "account not found"}, True)
    assert bad == (401, {"detail": "Invalid token."}, True)


def test_other_requests_go_to_django(team: Team) -> None:
    # given
    token = Token.objects.create(user=team.agent).key
    # when
    detail = _fast("/api/im/conversations/v1/", {"account_id": team.account.id}, token)
    # then
    assert detail[0] == 200
    assert detail[1]["conversation_id"] == "v1"
    assert detail[2] is False
