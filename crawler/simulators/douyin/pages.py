"""HTML of the creator-center pages: login card, home (server-rendered), and the shells of the works,
comment and chat pages (rendered by `static/creator.js` from the signed APIs); the captcha page.
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from .data import World
from .render import short_count

SCRIPT_PATH = Path(__file__).with_name("static") / "creator.js"

CSS = """
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f7;color:#161823}
.layout-Kj2h3{display:flex;min-height:100vh}.sider-Hg3j4{width:180px;background:#fff;padding:16px}
.sider-Hg3j4 a{display:block;padding:10px;color:#161823;text-decoration:none}.main-Lp4k5{flex:1;padding:20px}
.login-card-Zq1w2{width:380px;margin:80px auto;background:#fff;border-radius:8px;padding:24px;text-align:center}
.login-tabs-Xw2e3 span{margin:0 12px;cursor:pointer}.login-tab-active-Ce3r4{font-weight:600;color:#fe2c55}
#animate_qrcode_container img{width:180px;height:180px}
.video-card-Ab3x9{display:flex;height:120px;background:#fff;margin-bottom:12px;padding:10px;border-radius:6px}
.video-card-Ab3x9 img{width:90px;height:120px;background:#ddd;margin-right:12px}
.comment-list-Zx8c4{height:560px;overflow-y:auto;background:#fff;padding:8px}
.comment-item-Mn4b7{display:flex;padding:10px 0;border-bottom:1px solid #eee}.comment-item-Mn4b7 img{width:32px;height:32px;border-radius:50%;margin-right:8px;background:#ddd}
.replies-Pl0k9{margin-left:12px}.label-Vb8n1{background:#fe2c55;color:#fff;font-size:11px;padding:0 4px;margin-left:4px;border-radius:2px}
.operations-Df5g6 div{display:inline-block;margin-right:14px;cursor:pointer;color:#888}.reply-more-Zs3x1{color:#2b5fd9;cursor:pointer}
.comment-input-Wr5t3{display:flex;margin:8px 0}.editor-Kd8s2{position:relative;flex:1;border:1px solid #ddd;min-height:32px;background:#fff}
.placeholder-Lp3q9{position:absolute;left:8px;top:6px;color:#aaa;pointer-events:auto}.input-Xc6v2,.input-Tg6b7{min-height:32px;padding:6px 8px;outline:none}
.semi-modal-wrap{position:fixed;inset:0;background:rgba(0,0,0,.45)}.semi-modal-content{width:560px;margin:60px auto;background:#fff;padding:16px}
.work-list-Gh6j2{height:480px;overflow-y:auto}.container-Lkxos9{display:flex;height:90px;border-bottom:1px solid #eee;cursor:pointer}
.container-Lkxos9 img{width:60px;height:80px;background:#ddd;margin-right:8px}
.chat-left-Ui8o9{width:300px;float:left;background:#fff}.chat-right-Op9i8{margin-left:310px;background:#fff}
.conversation-list-Vd3s7{height:560px;overflow-y:auto;position:relative}.virtual-inner-Bg7h8{position:relative}
.conversation-item-Ik8l9{position:absolute;left:0;right:0;height:72px;box-sizing:border-box;padding:10px;border-bottom:1px solid #f0f0f0;cursor:pointer;overflow:hidden}
.conversation-item-Ik8l9 img{width:40px;height:40px;border-radius:50%;float:left;margin-right:8px;background:#ddd}
.active-Xs2d3{background:#f2f2f4}.box-header-Qa1z2{height:48px;line-height:48px;padding:0 16px;border-bottom:1px solid #eee;font-weight:600}
.box-content-Ed4c5{height:440px;overflow-y:auto;padding:8px 16px}.message-item-Pz1x2{margin:8px 0}.is-me-Ax2s3{text-align:right}
.message-item-Pz1x2 img{width:28px;height:28px;border-radius:50%;background:#ddd;vertical-align:middle}
.system-tip-Dc4f5{text-align:center;color:#999;font-size:12px}.chat-input-Rf5v6{display:flex;border-top:1px solid #eee}.input-Tg6b7{flex:1}
.comment-content-text-Ui9o0,.text-Sx3d4{white-space:pre-wrap}.comment-image-Rg4t5,.comment-sticker-Kw2e3{max-width:120px;display:block}
.toast-Qm3p1{position:fixed;top:20px;left:50%;background:#333;color:#fff;padding:8px 16px;border-radius:4px}
"""

NAV = (
    ("/creator-micro/home", "首页"),
    ("/creator-micro/content/manage", "作品管理"),
    ("/creator-micro/interactive/comment", "评论管理"),
    ("/creator-micro/data/following/chat", "私信管理"),
)


@lru_cache(maxsize=8)
def page_script(secret: str) -> str:
    return SCRIPT_PATH.read_text(encoding="utf-8").replace("__SIM_SECRET__", secret)


def _document(title: str, body: str, *, cfg: dict[str, Any] | None = None, secret: str | None = None) -> str:
    script = ""
    if cfg is not None and secret is not None:
        config = json.dumps(cfg, ensure_ascii=False).replace("</", "<\\/")
        script = f"<script>window.__SIM_CFG__ = {config};</script><script>{page_script(secret)}</script>"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}{script}</body></html>"
    )


def _shell(world: World, title: str, main: str) -> str:
    links = "".join(f'<a href="{href}">{label}</a>' for href, label in NAV)
    user = f'<div class="header-user-Pm5n6">{escape(world.owner["nickname"])}</div>'
    return f'<div class="layout-Kj2h3"><nav class="sider-Hg3j4">{user}{links}</nav><main class="main-Lp4k5">{main}</main></div>'


# The login card's QR markup per surface variant: each is found by exactly one of the adapter's QR locators.
QR_MARKUP = {
    "default": '<div id="animate_qrcode_container"><img class="qrcode-img-Bt5y6" src="{qr}" data-token="{token}" alt="二维码"></div>',
    "qr_alt": '<div class="scan-box-Ae3f2"><img class="code-Mn3k1" src="{qr}" data-token="{token}" alt="二维码"></div>',
    "qr_aria": '<div class="scan-box-Ae3f2"><img class="code-Mn3k1" src="{qr}" data-token="{token}" aria-label="二维码"></div>',
    "qr_data_png": '<div class="scan-box-Ae3f2"><img class="code-Mn3k1" src="{qr}" data-token="{token}"></div>',
    "qr_class": '<div class="web-login-QRCode__wrap-Po1i2"><img class="web-login-QRCode__img-Lk3j4" src="{qr}" data-token="{token}"></div>',
}


def login_page(*, token: str, qr: str, secret: str, surface: frozenset[str] = frozenset()) -> str:
    variant = next((name for name in QR_MARKUP if name in surface), "default")
    markup = QR_MARKUP[variant].format(qr=escape(qr), token=escape(token))
    body = f"""
<div class="login-card-Zq1w2">
  <div class="login-tabs-Xw2e3"><span class="login-tab-active-Ce3r4">我是创作者</span><span>我是MCN机构</span></div>
  <div class="login-title-Vr4t5">扫码登录</div>
  {markup}
  <div class="scan-hint-Hx4c1" style="display:none"><div>扫码成功</div><p>需在手机上进行确认</p></div>
  <p class="login-tip-Nu6i7">打开抖音App，点击左上角扫一扫登录</p>
  <div class="other-login-Mi7o8"><span>验证码登录</span> · <span>密码登录</span></div>
</div>"""
    return _document("抖音创作者中心", body, cfg={"page": "login", "token": token}, secret=secret)


def home_page(*, world: World, secret: str) -> str:
    owner = world.owner
    likes = sum(w["digg_count"] for w in world.works)
    main = f"""
<div class="creator-home-Ab1c2">
  <div class="header-Cd2e3">
    <img class="avatar-Ef3g4" src="{escape(owner["avatar"])}" alt="头像">
    <div class="info-Gh4i5">
      <div class="name-Ij5k6">{escape(owner["nickname"])}</div>
      <div class="unique_id-Lk9x2">抖音号：{escape(world.unique_id)}</div>
      <div class="signature-Kl6m7">{escape(owner["signature"])}</div>
    </div>
  </div>
  <div class="statistics-Mn7o8">
    <div id="guide_home_following"><div class="number-Op8q9">{short_count(world.following_count)}</div><div class="label-Qr9s0">关注</div></div>
    <div id="guide_home_fans"><div class="number-Op8q9">{short_count(world.follower_count)}</div><div class="label-Qr9s0">粉丝</div></div>
    <div id="guide_home_likes"><div class="number-Op8q9">{short_count(likes)}</div><div class="label-Qr9s0">获赞</div></div>
  </div>
</div>"""
    return _document(
        "首页 - 抖音创作者中心", _shell(world, "首页", main), cfg={"page": "home"}, secret=secret
    )


APP_PAGES = {
    "/creator-micro/content/manage": ("works", "作品管理"),
    "/creator-micro/interactive/comment": ("comment", "评论管理"),
    "/creator-micro/data/following/chat": ("chat", "私信管理"),
}


def app_page(*, world: World, path: str, secret: str, surface: frozenset[str] = frozenset()) -> str:
    name, title = APP_PAGES[path]
    body = _shell(world, title, f'<h2 class="page-title-St0u1">{title}</h2><div id="root"></div>')
    cfg = {"page": name, "surface": sorted(surface)}
    return _document(f"{title} - 抖音创作者中心", body, cfg=cfg, secret=secret)


def captcha_page() -> str:
    body = """
<div id="captcha_container">
  <div class="captcha_verify_container">
    <div class="captcha_verify_bar">请完成下列验证后继续</div>
    <div class="verify-title">验证码</div>
    <div class="captcha_verify_img_slide" style="width:340px;height:212px;background:#ccc"></div>
    <div class="captcha_verify_slide_text">按住左边按钮拖动完成上方拼图</div>
  </div>
</div>"""
    return _document("验证码中间页", body)


def verify_text_page() -> str:
    """Risk mode `verify_text`: only the text says it (no captcha container, no special URL)."""
    body = """
<div class="secure-check-Hk3j2">
  <div class="secure-title-Lm4n5">为了你的账号安全，请完成身份验证</div>
  <p>请输入发送至手机的验证码</p><input class="code-input-Pq6r7"><button>确定</button>
</div>"""
    return _document("安全验证", body)


def verifycenter_page() -> str:
    """Where the `verifycenter` risk mode redirects: the URL is the signal."""
    return _document("验证中心", '<div class="verify-wrap-Ab2c3"><div>请拖动滑块完成拼图</div></div>')


def captcha_iframe_page() -> str:
    """Risk mode `captcha_iframe`: an ordinary-looking page whose captcha sits in an iframe."""
    body = """
<div class="layout-Kj2h3"><main class="main-Lp4k5">
  <div class="loading-Tt5y6">加载中</div>
  <iframe class="risk-frame-Wq1e2" src="/captcha/frame?from=creator" width="360" height="260"></iframe>
</main></div>"""
    return _document("抖音创作者中心", body)


def captcha_frame() -> str:
    body = (
        '<div class="captcha-box-Vb3n4"><div>请完成下列验证后继续</div><div class="slide-Xc5v6"></div></div>'
    )
    return _document("verify", body)


NOT_FOUND = _document("404", '<div class="not-found">页面不存在</div>')
