"""The inbox's Django views: login required, login/logout pages, language per view, the API untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client

from datasync.im.inbox.language import LANGUAGE_COOKIE
from datasync.im.inbox.views import MODULES
from tests.datasync.im.fixtures import installed_store  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent() -> User:
    return User.objects.create_user("agent", password="pw-agent-1")


def _config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="inbox-config" type="application/json">') + len(
        '<script id="inbox-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_anonymous_is_sent_to_the_login_page() -> None:
    # when
    response = Client().get("/inbox/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/inbox/login/?next=/inbox/"


def test_login_page_is_chinese_by_default_and_english_on_request() -> None:
    # when
    chinese = Client().get("/inbox/login/")
    english = Client().get("/inbox/login/?lang=en")
    # then
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.content.decode()
    assert "imhub 客服收件箱" in chinese.content.decode()
    assert "imhub inbox" in english.content.decode()
    assert "客服收件箱" not in english.content.decode()
    assert english.cookies[LANGUAGE_COOKIE].value == "en"


def test_login_then_the_page_with_the_users_config(agent: User) -> None:
    # given
    client = Client()
    # when
    login = client.post("/inbox/login/", {"username": "agent", "password": "pw-agent-1", "next": "/inbox/"})
    page = client.get("/inbox/")
    # then
    assert (login.status_code, login["Location"]) == (302, "/inbox/")
    assert page.status_code == 200
    config = _config(page)
    assert config["user"] == {"id": agent.pk, "username": "agent"}
    assert (config["language"], config["time_zone"], config["ws"]) == ("zh-hans", "Asia/Shanghai", "/ws/im/")
    assert 'src="/static/inbox/main.js"' in page.content.decode()
    assert "只看未读" in page.content.decode()


def test_wrong_password_shows_the_error_in_the_chosen_language(agent: User) -> None:
    # when
    response = Client().post("/inbox/login/", {"username": "agent", "password": "nope"})
    # then
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_language_choice_is_remembered_by_cookie(agent: User) -> None:
    # given an agent who chose English once
    client = Client()
    client.force_login(agent)
    client.get("/inbox/?lang=en")
    # when
    page = client.get("/inbox/")
    # then
    assert _config(page)["language"] == "en"
    assert "Unread only" in page.content.decode()


def test_logged_in_agent_skips_the_login_page(agent: User) -> None:
    # given
    client = Client()
    client.force_login(agent)
    # when
    response = client.get("/inbox/login/")
    # then
    assert (response.status_code, response["Location"]) == (302, "/inbox/")


def test_logout_is_a_post_back_to_the_login_page(agent: User) -> None:
    # given
    client = Client()
    client.force_login(agent)
    # when
    response = client.post("/inbox/logout/")
    after = client.get("/inbox/")
    # then
    assert (response.status_code, response["Location"]) == (302, "/inbox/login/")
    assert after.status_code == 302


@pytest.mark.usefixtures("installed_store")
def test_the_inbox_language_does_not_leak_into_the_api(agent: User) -> None:
    # given an agent whose inbox is in Chinese (the default)
    client = Client()
    client.force_login(agent)
    client.get("/inbox/?lang=zh-hans")
    # when the API answers an error
    response = client.get("/api/im/unified-messages/", {"account_id": "x"})
    # then its text is the API's own, in English
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_parameter",
        "param": "account_id",
        "detail": "must be an integer",
    }


def test_the_page_preloads_exactly_its_modules() -> None:
    # given the modules on disk
    static_dir = Path(str(finders.find("inbox/main.js"))).parent
    # when / then every one is preloaded by the page, and the stylesheet is found
    assert set(MODULES) == {f"inbox/{p.name}" for p in static_dir.glob("*.js")}
    assert finders.find("inbox/inbox.css") is not None
