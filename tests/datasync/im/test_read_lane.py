"""The ASGI read lane answers every IM read route exactly like Django + DRF: status, headers and body bytes.

Each request goes once through the plain Django ASGI application (DRF viewsets) and once through the
lane in front of it; a spy on the inner app tells which path answered. Token and session clients, good
and bad parameters, pagination links, invisible accounts; requests the lane must leave to Django.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.datasync.im.fixtures)
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.authtoken.models import Token

from datasync.im.api.lane import ReadLane
from datasync.im.api.routes import lane_routes
from datasync.im.api.urls import router as im_router
from imhub.asgi import django_asgi_app
from tests.datasync.im.fixtures import Team, installed_store, team  # noqa: F401

pytestmark = pytest.mark.django_db

django_app = ASGIStaticFilesHandler(django_asgi_app)
SKIP_HEADERS = {b"date", b"server"}  # added by the server, not by either path


class Spy:
    """The inner app of the lane: Django, recording whether a request reached it."""

    def __init__(self, app: Any = django_app) -> None:
        self.calls = 0
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


def asgi_get(
    app: Any, path: str, query: str = "", headers: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One GET through an ASGI app, in process: (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            *([] if any(k == "Host" for k, _ in headers or []) else [(b"host", b"testserver")]),
            *((k.lower().encode(), v.encode()) for k, v in headers or []),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    received: list[bool] = []

    async def receive() -> dict[str, Any]:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects; Django cancels this wait
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    kept = [(k, v) for k, v in start["headers"] if k.lower() not in SKIP_HEADERS]
    return start["status"], kept, body


def both(
    path: str, query: str, headers: list[tuple[str, str]], django: Any = django_app
) -> tuple[Any, Any, bool]:
    """(Django's answer, the lane's answer, whether the lane answered itself)."""
    spy = Spy(django)
    drf = asgi_get(django, path, query, headers)
    lane = asgi_get(ReadLane(spy), path, query, headers)
    return drf, lane, spy.calls == 0


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


READS = [
    ("/api/im/accounts/", {}),
    ("/api/im/accounts/", {"limit": 1}),
    ("/api/im/accounts/", {"limit": 1, "cursor": "1"}),
    ("/api/im/accounts/", {"cursor": "x"}),
    ("/api/im/accounts/", {"limit": 0}),
    ("/api/im/accounts/{account}/", {}),
    ("/api/im/accounts/{other}/", {}),
    ("/api/im/accounts/abc/", {}),
    ("/api/im/conversations/", {"account_id": "{account}"}),
    ("/api/im/conversations/", {"account_id": "{account}", "limit": 1}),
    ("/api/im/conversations/", {"account_id": "{other}"}),
    ("/api/im/conversations/", {}),
    ("/api/im/conversations/", {"account_id": "abc"}),
    ("/api/im/conversations/v1/", {"account_id": "{account}"}),
    ("/api/im/conversations/nope/", {"account_id": "{account}"}),
    ("/api/im/conversations/v1/", {}),
    ("/api/im/messages/", {"account_id": "{account}", "conversation_id": "v1"}),
    ("/api/im/messages/", {"account_id": "{account}", "conversation_id": "v2", "limit": 1}),
    ("/api/im/messages/", {"account_id": "{account}"}),
    ("/api/im/contents/", {"account_id": "{account}", "ordering": "-likes", "limit": 1}),
    ("/api/im/contents/", {"account_id": "{account}", "ordering": "bogus"}),
    ("/api/im/contents/w1/", {"account_id": "{account}"}),
    ("/api/im/contents/w9/", {"account_id": "{account}"}),
    ("/api/im/discussions/", {"account_id": "{account}", "content_id": "w1", "limit": 2}),
    ("/api/im/discussions/", {"account_id": "{account}", "parent_id": "c1"}),
    ("/api/im/discussions/", {"account_id": "{account}", "parent_id": "nope"}),
    ("/api/im/discussions/", {"account_id": "{account}"}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "limit": 3}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "unread": "true", "types": "messages"}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "types": "x"}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "unread": "maybe"}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "cursor": "garbage"}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "limit": 500}),
    ("/api/im/unified-messages/", {"account_id": "{account}", "limit": 2, "x": "中文 &?/"}),
    ("/api/im/unified-messages/stats/", {"account_id": "{account}"}),
    ("/api/im/unified-messages/stats/", {"account_id": "{other}"}),
]


def _fill(team: Team, path: str, params: dict[str, Any]) -> tuple[str, str]:
    ids = {"{account}": str(team.account.id), "{other}": str(team.other_account.id)}
    for key, value in ids.items():
        path = path.replace(key, value)
    query = urlencode({k: ids.get(str(v), v) for k, v in params.items()})
    return path, query


@pytest.mark.parametrize("client", ["token", "session", "superuser"])
@pytest.mark.parametrize(("path", "params"), READS)
def test_lane_answers_like_drf(team: Team, client: str, path: str, params: dict[str, Any]) -> None:
    # given a token client, a session client (the inbox page) or a superuser
    if client == "token":
        headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    elif client == "session":
        headers = [("Cookie", _session_cookie(team.agent)), ("Accept", "application/json")]
    else:
        headers = [("Authorization", f"Token {Token.objects.create(user=team.admin).key}"), ("Accept", "*/*")]
    path, query = _fill(team, path, params)
    # when
    drf, lane, answered = both(path, query, headers)
    # then the lane answered itself, with the very same status, headers and bytes
    assert answered is True
    assert lane == drf


def test_pagination_links_match_and_follow(team: Team) -> None:
    # given
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    path, query = _fill(team, "/api/im/unified-messages/", {"account_id": "{account}", "limit": 2})
    # when
    drf, lane, answered = both(path, query, headers)
    # then
    assert answered and lane == drf
    assert b'"next":"http://testserver/api/im/unified-messages/?account_id=' in lane[2]
    assert b"&cursor=" in lane[2] and b'"next_cursor":"' in lane[2]


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ([("Authorization", "Token " + "0" * 40)], "account_id={account}"),  # unknown token
        ([("Authorization", "Bearer abc")], "account_id={account}"),  # not a DRF token
        ([("Authorization", "")], "account_id={account}"),  # no credentials
        ([("Cookie", "sessionid=doesnotexist")], "account_id={account}"),  # expired/unknown session
        ([("Authorization", "TOKEN"), ("Accept", "text/html")], "account_id={account}"),  # browsable API
        ([("Accept", "text/html")], "account_id={account}"),
        ([("Accept", "application/xml")], "account_id={account}"),  # DRF answers 406
        ([], "account_id={account}&format=json"),  # DRF's format override
        ([("Host", "evil.example")], "account_id={account}"),  # DisallowedHost
        ([("X-Forwarded-Host", "a.example")], "account_id={account}"),
    ],
)
def test_lane_leaves_to_django_what_it_must(team: Team, headers: list[tuple[str, str]], query: str) -> None:
    # given any request the lane cannot answer exactly like Django (a valid token where credentials count)
    query = query.replace("{account}", str(team.account.id))
    if not any(k in ("Authorization", "Cookie") for k, _ in headers):
        headers = [*headers, ("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    headers = [(k, v) for k, v in headers if v]
    # when
    spy = Spy()
    lane = asgi_get(ReadLane(spy), "/api/im/unified-messages/", query, headers)
    # then Django answered
    assert spy.calls == 1
    assert lane[0] in (200, 400, 403, 406)


def test_expired_session_gets_what_drf_returns(team: Team) -> None:
    # given a session that was logged out
    client = Client()
    client.force_login(team.agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    client.logout()
    path, query = _fill(team, "/api/im/conversations/", {"account_id": "{account}"})
    # when
    drf, lane, answered = both(path, query, [("Cookie", cookie)])
    # then Django answered both, with its 403 and cookie deletion
    assert answered is False
    assert lane == drf
    assert lane[0] == 403


def test_logged_out_session_stops_at_once(team: Team) -> None:
    # given a session used once through the lane (now cached)
    client = Client()
    client.force_login(team.agent)
    headers = [("Cookie", f"sessionid={client.cookies['sessionid'].value}")]
    path, query = _fill(team, "/api/im/unified-messages/stats/", {"account_id": "{account}"})
    assert asgi_get(ReadLane(Spy()), path, query, headers)[0] == 200
    # when the agent logs out
    client.get("/api-auth/logout/")
    client.post("/api-auth/logout/")
    # then the lane no longer takes the session
    spy = Spy()
    assert asgi_get(ReadLane(spy), path, query, headers)[0] == 403
    assert spy.calls == 1


def test_accounts_route_follows_changes_without_the_database_per_request(
    team: Team, django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a warm lane for the agent
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    lane = ReadLane(Spy())
    asgi_get(lane, "/api/im/accounts/", "", headers)
    # when reading again: no query at all
    with django_assert_num_queries(0):
        status, _, body = asgi_get(lane, "/api/im/accounts/", "", headers)
    assert status == 200 and "红".encode() in body
    # and when the account changes (saved, then committed), the next read shows it
    with django_capture_on_commit_callbacks(execute=True):
        team.account.nickname = "红队"
        team.account.save()
    status, _, body = asgi_get(lane, "/api/im/accounts/", "", headers)
    assert status == 200 and "红队".encode() in body


def test_lane_records_latency_like_django_routes(team: Team) -> None:
    # given a lane with an observer (the hub passes its API latency histogram)
    seen: list[tuple[str, str, int]] = []
    lane = ReadLane(
        Spy(), observe=lambda method, route, status, seconds: seen.append((method, route, status))
    )
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    # when
    asgi_get(lane, "/api/im/conversations/", f"account_id={team.account.id}", headers)
    asgi_get(lane, "/api/im/contents/w1/", "account_id=abc", headers)
    asgi_get(lane, f"/api/im/accounts/{team.account.id}/", "", headers)
    # then the labels are Django's resolved route patterns (the account detail's too)
    assert seen == [
        ("GET", "api/im/conversations/$", 200),
        ("GET", "api/im/contents/(?P<pk>[^/]+)/$", 400),
        ("GET", "api/im/accounts/(?P<pk>[^/]+)/$", 200),
    ]


# routed GETs of the IM API that read the database, not the store: Django serves them
NOT_LANE_READS = {("ReplyViewSet", "retrieve")}


def test_every_routed_get_of_the_im_api_has_a_lane_route_with_djangos_label() -> None:
    # given every GET the IM API's router serves, at a path Django resolves to it
    routes = lane_routes()
    checked = []
    for pattern in im_router.urls:
        action = pattern.callback.actions.get("get")  # type: ignore[attr-defined]
        if action is None:
            continue
        view = pattern.callback.cls  # type: ignore[attr-defined]
        kwargs = {"pk": "x1"} if "pk" in pattern.pattern.regex.groupindex else {}
        path = reverse(pattern.name, kwargs=kwargs)
        match = resolve(path)
        # when the lane looks the path up
        found = routes.match(path)
        # then it serves the action's own query under the label Django gives the request
        if (view.__name__, action) in NOT_LANE_READS:
            assert found is None, path
            continue
        assert found is not None, f"{path} ({view.__name__}.{action}) has no lane route"
        route, pk = found
        assert route.read is view.reads[action]
        assert (route.label, pk) == (match.route, kwargs.get("pk"))
        checked.append(f"{view.__name__}.{action}")
    assert len(checked) == 10  # every read action of the seven read viewsets


def fresh_django() -> Any:
    """Django's ASGI app built now: its middleware reads the security settings when it is built."""
    return ASGIStaticFilesHandler(get_asgi_application())


PROXY_SSL = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    ("setting", "forwarded", "hsts"),
    [
        (PROXY_SSL, [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")], 0),
        (PROXY_SSL, [("X-Forwarded-Proto", "https")], 3600),  # HSTS on secure answers only
        (PROXY_SSL, [("X-Forwarded-Proto", "http")], 3600),
        (PROXY_SSL, [("X-Forwarded-Proto", "https, http")], 0),  # the first value counts
        (PROXY_SSL, [("X-Forwarded-Proto", "HTTPS")], 0),  # not the secure value: http
        (None, [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")], 3600),  # not trusted
        (("HTTP_X_SCHEME", "on"), [("X-Scheme", "on")], 60),  # any header Django is told to trust
    ],
)
def test_lane_trusts_the_proxy_headers_django_trusts(
    team: Team, settings: Any, setting: Any, forwarded: list[tuple[str, str]], hsts: int
) -> None:
    # given a proxy's headers and Django configured to trust (or not) its scheme header
    settings.SECURE_PROXY_SSL_HEADER = setting
    settings.SECURE_HSTS_SECONDS = hsts
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}"), *forwarded]
    path, query = _fill(team, "/api/im/unified-messages/", {"account_id": "{account}", "limit": 2})
    # when
    drf, lane, answered = both(path, query, headers, fresh_django())
    # then the lane answered, like Django: the next link's scheme and the HSTS header follow the setting
    assert answered is True
    assert lane == drf
    secure = setting is not None and forwarded[0][1].split(",")[0].strip() == setting[1]
    assert (b'"next":"https://' in lane[2]) is secure
    assert any(k == b"Strict-Transport-Security" for k, _ in lane[1]) is (secure and hsts > 0)


@pytest.mark.parametrize(
    "forwarded",
    [
        [("X-Forwarded-Port", "8443")],  # USE_X_FORWARDED_PORT may apply it
        [("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")],  # repeated: Django joins them
        [("X_Forwarded_Proto", "https")],  # Django reads it as X-Forwarded-Proto
    ],
)
def test_lane_leaves_ambiguous_proxy_headers_to_django(
    team: Team, settings: Any, forwarded: list[tuple[str, str]]
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = PROXY_SSL
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}"), *forwarded]
    path, query = _fill(team, "/api/im/unified-messages/", {"account_id": "{account}"})
    drf, lane, answered = both(path, query, headers)
    assert answered is False
    assert lane == drf


def test_lane_leaves_the_https_redirect_to_django(team: Team, settings: Any) -> None:
    # given SECURE_SSL_REDIRECT and a plain-http request (no proxy header saying https)
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = PROXY_SSL
    headers = [("Authorization", f"Token {Token.objects.create(user=team.agent).key}")]
    path, query = _fill(team, "/api/im/unified-messages/", {"account_id": "{account}"})
    # when / then: Django redirects; through the proxy saying https, the lane answers
    django = fresh_django()
    drf, lane, answered = both(path, query, headers, django)
    assert (answered, lane[0], lane == drf) == (False, 301, True)
    drf, lane, answered = both(path, query, [*headers, ("X-Forwarded-Proto", "https")], django)
    assert (answered, lane[0], lane == drf) == (True, 200, True)
