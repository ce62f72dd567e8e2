"""The simulator as a raw ASGI application (no framework): routes pages, passport, APIs and `/__sim__/`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import actions, api, control, pages
from .http import Request, Response, html_response, json_response, redirect
from .qr import qr_image_url
from .state import SESSION_COOKIE, SimConfig, SimState

logger = logging.getLogger("crawler.simulators.douyin")
MAX_BODY = 1 << 20


# Risk modes shown on the pages (the API modes leave the pages alone).
RISK_PAGES = {
    "captcha": pages.captcha_page,
    "verify_text": pages.verify_text_page,
    "captcha_iframe": pages.captcha_iframe_page,
}


def page_dispatch(state: SimState, request: Request) -> Response | None:
    path = request.path
    if path.startswith("/verifycenter/"):
        return html_response(pages.verifycenter_page())
    if path == "/captcha/frame":
        return html_response(pages.captcha_frame())
    world = state.session_account(request.cookies.get(SESSION_COOKIE))
    if path == "/":
        if world is not None:
            return redirect("/creator-micro/home")
        ticket = state.ticket_create()
        surface = state.surface_of(None)
        qr = qr_image_url(ticket.token, png="qr_data_png" in surface)
        return html_response(
            pages.login_page(token=ticket.token, qr=qr, secret=state.secret, surface=surface)
        )
    if not path.startswith("/creator-micro/"):
        return None
    if world is None:
        return redirect("/")
    mode = state.risk_mode(world.owner["uid"])
    if mode == "verifycenter":
        return redirect("/verifycenter/captcha/v2?from=creator_center&next=" + path)
    if mode in RISK_PAGES:
        return html_response(RISK_PAGES[mode]())
    if path == "/creator-micro/home":
        return html_response(pages.home_page(world=world, secret=state.secret))
    if path in pages.APP_PAGES:
        surface = state.surface_of(world.owner["uid"])
        return html_response(pages.app_page(world=world, path=path, secret=state.secret, surface=surface))
    return html_response(pages.NOT_FOUND, status=404)


def handle(state: SimState, request: Request) -> Response:
    """One request -> one response (synchronous; the state is only touched from the event loop)."""
    actions.live_tick(state)
    if request.path.startswith("/__sim__/"):
        return control.control_dispatch(state, request)
    if request.path == "/favicon.ico":
        return Response(status=204, content_type="image/x-icon")
    for dispatch in (api.passport_dispatch, api.api_dispatch):
        response = dispatch(state, request)
        if response is not None:
            return response
    if request.method == "GET":
        response = page_dispatch(state, request)
        if response is not None:
            return response
    return json_response({"status_code": 404, "status_msg": "not found"}, status=404)


class SimulatorApp:
    """ASGI callable; `state` is public so in-process tests can inspect it."""

    def __init__(self, config: SimConfig, *, ticker: bool = False) -> None:
        self.state = SimState(config)
        self.ticker = ticker
        self._ticker_task: asyncio.Task[None] | None = None

    async def _tick_forever(self) -> None:
        """Live items appear on time even when nobody asks (the server process only)."""
        while True:
            await asyncio.sleep(0.5)
            try:
                actions.live_tick(self.state)
            except Exception:
                logger.exception("live tick failed")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.ticker and self._ticker_task is None:
            self._ticker_task = asyncio.ensure_future(self._tick_forever())
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            await api.frontier_socket(self.state, scope, receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _send(send, json_response({"error": "body too large"}, status=413))
                return
            if not message.get("more_body"):
                break
        request = Request.from_scope(scope, body)
        try:
            if request.path == api.PUSH_PATH and request.method == "GET":  # a long poll: waits
                actions.live_tick(self.state)
                response = await api.im_push(self.state, request)
            else:
                response = handle(self.state, request)
        except Exception:
            logger.exception("simulator error on %s %s", request.method, request.path)
            response = json_response({"status_code": 500, "status_msg": "服务器开小差了"}, status=500)
        if response.delay:  # the state changed already; only the answer is late (slow-answers fault)
            await asyncio.sleep(response.delay)
        await _send(send, response)


async def _send(send: Any, response: Response) -> None:
    headers = [
        (b"content-type", response.content_type.encode()),
        (b"content-length", str(len(response.body)).encode()),
    ]
    headers += [(k.encode(), v.encode()) for k, v in response.headers]
    headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def create_app(config: SimConfig | None = None, *, ticker: bool = False) -> SimulatorApp:
    """The ASGI app; `ticker=True` (the served process) creates live items on a 0.5 s timer too."""
    return SimulatorApp(config or SimConfig(), ticker=ticker)
