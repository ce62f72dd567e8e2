"""End-to-end: docs/nginx/imhub.conf, rendered with this test's ports, in front of two hub processes.

nginx runs in the foreground with its own prefix and temp dirs, terminating TLS with a certificate made
here. Through it: IM API reads are answered by the read lane (the processes' ``read_lane`` counters), a
worker's WebSocket registers and syncs, an agent's WebSocket gets the resulting event, static files
come from STATIC_ROOT, a session login POST passes Django's CSRF origin check, and plain http redirects.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.sync.client import connect

from imhub.processes import ManagedProcess, free_port, process_start_ready
from tests.datasync.records import comment, sync_text
from tests.e2e.datasync_support import hub_seed, recv, register, stats_get, worker_connect
from tests.support.processes import Hub, make_hub

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "nginx" / "imhub.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
PROXY_SSL_HEADER = "HTTP_X_FORWARDED_PROTO,https"  # what docs/nginx/imhub.conf's notes tell the hub to set


def certificate_make(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost): (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"docs/nginx/imhub.conf no longer has {old!r} once: update this test"
    return text.replace(old, new)


def nginx_config_render(
    *, prefix: Path, hubs: list[Hub], http_port: int, https_port: int, cert: Path, key: Path, static: Path
) -> Path:
    """The committed config with this test's values, inside a main config of its own (prefix, pid,
    logs, temp dirs); returns the main config's path."""
    site = CONFIG.read_text()
    site = _replace_once(
        site,
        "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n",
        "".join(f"    server 127.0.0.1:{hub.port};\n" for hub in hubs),
    )
    site = _replace_once(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _replace_once(site, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = _replace_once(site, "/etc/ssl/imhub/fullchain.pem", str(cert))
    site = _replace_once(site, "/etc/ssl/imhub/privkey.pem", str(key))
    site = _replace_once(site, "/srv/imhub/var/static/", f"{static}/")
    (prefix / "imhub.conf").write_text(site)
    temp = prefix / "temp"
    temp.mkdir()
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    main = prefix / "nginx.conf"
    main.write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    {mime}
    access_log {prefix}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {prefix}/imhub.conf;
}}
"""
    )
    return main


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get(url: str, context: ssl.SSLContext, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _lane_counts(hubs: list[Hub], api_token: str) -> tuple[int, int]:
    """(answered, passed to Django) by the read lane, summed over the hub processes (asked directly)."""
    lanes = [stats_get(hub, api_token)["process"]["read_lane"] for hub in hubs]
    return sum(lane["answered"] for lane in lanes), sum(lane["passed_to_django"] for lane in lanes)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.mark.skipif(
    NGINX is None, reason="the nginx binary is not installed (.ci/run installs Debian's nginx)"
)
def test_nginx_config_serves_the_read_lane_workers_and_agents(
    tmp_path: Path, fresh_database: str, fresh_redis_url: str
) -> None:
    # given two hub processes on PostgreSQL + Redis, set up for the proxy (docs/nginx/imhub.conf's notes)
    hub_a = make_hub(
        tmp_path / "a",
        database_url=fresh_database,
        redis_url=fresh_redis_url,
        SECURE_PROXY_SSL_HEADER=PROXY_SSL_HEADER,
        SESSION_COOKIE_SECURE="true",
    )
    hub_b = make_hub(
        tmp_path / "b",
        database_url=fresh_database,
        redis_url=fresh_redis_url,
        migrate=False,
        SECURE_PROXY_SSL_HEADER=PROXY_SSL_HEADER,
        SESSION_COOKIE_SECURE="true",
    )
    static = tmp_path / "a" / "var" / "static"
    hub_a.manage("collectstatic", "--noinput", "-v", "0")
    hubs = [hub_a.start(), hub_b.start()]
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cert, key = certificate_make(prefix)
    http_port, https_port = free_port(), free_port()
    main = nginx_config_render(
        prefix=prefix,
        hubs=hubs,
        http_port=http_port,
        https_port=https_port,
        cert=cert,
        key=key,
        static=static,
    )
    assert NGINX is not None
    nginx = process_start_ready(
        ManagedProcess(name="nginx", args=[NGINX, "-p", str(prefix), "-c", str(main)], env=dict(os.environ),
                       log_path=prefix / "stdout.log"),
        ready=lambda: _port_open(https_port),
        what=f"nginx on {https_port}",
        timeout=30,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    base, ws_base = f"https://127.0.0.1:{https_port}", f"wss://127.0.0.1:{https_port}"
    try:
        seed = hub_seed(hub_a)
        account_id, api_token = seed["account_id"], seed["api_token"]
        auth = {"Authorization": f"Token {api_token}"}

        # when an agent listens on /ws/im/ through nginx and a worker syncs through nginx
        with connect(f"{ws_base}/ws/im/", additional_headers=auth, ssl=context, open_timeout=10) as inbox:
            assert json.loads(inbox.recv(timeout=15))["type"] == "ready"
            with worker_connect(hub_a, seed["token"], ws_url=ws_base, ssl=context) as ws:
                assert register(ws)["type"] == "master:register:ack"
                ws.send(
                    sync_text(
                        account_id=account_id,
                        epoch=1,
                        seq=1,
                        entities={"comments": [comment("k1"), comment("k2")]},
                    )
                )
                assert recv(ws)["payload"] == {"account_id": account_id, "seq": 1}
            # then the agent gets the new items through nginx
            event = json.loads(inbox.recv(timeout=15))
            assert (event["type"], event["account_id"]) == ("new_item", account_id)

        # and IM API reads through nginx are answered by the read lane, on both processes' stores
        before = _lane_counts(hubs, api_token)
        pages = []
        for _ in range(6):  # nginx spreads them over the two processes
            status, _, body = _get(
                f"{base}/api/im/unified-messages/?account_id={account_id}&limit=1", context, auth
            )
            assert status == 200, body
            pages.append(json.loads(body))
        after = _lane_counts(hubs, api_token)
        assert (after[0] - before[0], after[1] - before[1]) == (6, 0)
        # the next link carries the client's scheme and host:port (X-Forwarded-Proto, Host as sent)
        assert all(page["next"].startswith(f"{base}/api/im/unified-messages/?") for page in pages)
        assert len({json.dumps(page["results"]) for page in pages}) == 1  # both stores have the items

        # and static files come from STATIC_ROOT through nginx
        status, _, body = _get(f"{base}/static/admin/css/base.css", context, {})
        assert status == 200 and body == (static / "admin" / "css" / "base.css").read_bytes()

        # and a session login POST from the https origin passes Django's CSRF checks (https seen via the
        # proxy header), and its session cookie is marked Secure
        jar = CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(jar),
            _NoRedirect(),
        )
        with opener.open(f"{base}/inbox/login/", timeout=10) as response:
            assert response.status == 200
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        hub_a.shell(
            "from django.contrib.auth.models import User; "
            "u = User.objects.get(username='staff'); u.set_password('pw-e2e-nginx'); u.save()"
        )
        login = urllib.request.Request(
            f"{base}/inbox/login/",
            data=f"csrfmiddlewaretoken={csrf}&username=staff&password=pw-e2e-nginx".encode(),
            headers={"Origin": base, "Referer": f"{base}/inbox/login/", "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )  # fmt: skip
        try:
            opener.open(login, timeout=10)
            raise AssertionError("the login did not redirect")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302, exc.read()[:500]
        session = next(c for c in jar if c.name == "sessionid")
        assert session.secure is True
        # a cross-origin POST is refused
        forged = urllib.request.Request(login.full_url, data=login.data, headers={**login.headers, "Origin": "https://evil.example"}, method="POST")  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(forged, timeout=10)
        assert refused.value.code == 403

        # and plain http is redirected to https
        plain = urllib.request.build_opener(_NoRedirect())
        with pytest.raises(urllib.error.HTTPError) as redirected:
            plain.open(f"http://127.0.0.1:{http_port}/inbox/", timeout=10)
        assert redirected.value.code == 301
        assert redirected.value.headers["Location"].startswith("https://127.0.0.1")
    finally:
        nginx.stop()
        for hub in hubs:
            hub.stop()
