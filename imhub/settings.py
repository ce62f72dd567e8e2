"""All imhub settings, read from the environment in one place (django-environ).

Every variable is listed with a comment in `.env.example`. Defaults are the embedded set-up:
SQLite (WAL) under `var/`, the in-memory channel layer, one hub process.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from imhub.keys import generated_key, production_key_problems

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    environ.Env.read_env(str(_env_file))

# `production` refuses to start on a missing, default or short key (imhub/keys.py); `development` (the
# default, what ./run.sh demo and the tests run) generates missing keys once into $IMHUB_VAR_DIR/keys/.
IMHUB_ENV = env.str("IMHUB_ENV", default="development")
if IMHUB_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"IMHUB_ENV must be development or production, not {IMHUB_ENV!r}")

# Everything the hub and the workers write is private to their user: folders 0700, files 0600 (the
# SQLite file, the snapshot, keys, worker outboxes and storage state).
os.umask(0o077)
VAR_DIR = Path(env.str("IMHUB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
os.chmod(VAR_DIR, 0o700)

_secret_key = env.str("SECRET_KEY", default="")
# Key(s) encrypting account storage state at rest (Fernet): a comma-separated list; the first encrypts,
# every one decrypts (rotation: put the new key first, run `manage.py storage_state_rekey`, drop the old).
STORAGE_STATE_KEYS = [k.strip() for k in env.str("STORAGE_STATE_KEY", default="").split(",") if k.strip()]
if IMHUB_ENV == "production":
    _problems = production_key_problems(secret_key=_secret_key, storage_keys=STORAGE_STATE_KEYS)
    if _problems:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(_problems))
    SECRET_KEY = _secret_key
else:
    SECRET_KEY = _secret_key or generated_key(VAR_DIR, "secret_key")
    if not STORAGE_STATE_KEYS:
        # the generated key encrypts; SECRET_KEY still decrypts what an older version encrypted with it
        STORAGE_STATE_KEYS = [generated_key(VAR_DIR, "storage_state_key"), SECRET_KEY]
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy: the header (Django's META name) and value saying the request was https,
# e.g. HTTP_X_FORWARDED_PROTO,https. Only when the proxy always sets it and the hub is not reachable
# directly (a client could send it). The read lane applies it the same way (datasync/im/api/lane.py).
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = (
    (_proxy_ssl_header[0], _proxy_ssl_header[1]) if len(_proxy_ssl_header) == 2 else None
)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)

INSTALLED_APPS = [
    "daphne",
    "imhub.admin_apps.ImhubAdminConfig",  # django.contrib.admin with optional TOTP for staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from the installed package, not a CDN
    "django_otp",
    "django_otp.plugins.otp_totp",  # staff's optional second factor (imhub/admin_site.py)
    "channels",
    "imhub",
    "accounts",
    "datasync",
    "datasync.im",
    "datasync.desk",
    "crawler",
]

MIDDLEWARE = [
    "imhub.metrics.ApiLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.throttle.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "imhub.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "imhub.urls"
ASGI_APPLICATION = "imhub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "imhub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite file in WAL mode by default; DATABASE_URL (e.g. postgres://...) overrides.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'imhub.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer: channels-redis when REDIS_URL is set, else the in-memory layer (one process).
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=30.0)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout above channels-redis's 5 s BZPOPMIN: redis-py's default read timeout is
            # also 5 s, so an idle receive raised "Timeout reading" every 5 s, and a message popped as
            # the client gave up was lost (it is put in the layer's backup queue only once read)
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_SOCKET_TIMEOUT}],
                "capacity": 10000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10000}}
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "imhub.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "imhub API",
    "DESCRIPTION": "IM API for agents and the management API for staff.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # the schema and the docs are for logged-in users (session or token), and the docs' assets are
    # served by the hub itself (drf-spectacular-sidecar)
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # every operation documents the errors the hub's shared layers give (imhub/openapi.py)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "imhub.openapi.error_responses",
    ],
}

# Hub behaviour.
# Below daphne's own WebSocket message limit (1 MiB by default): a larger frame would be dropped by
# daphne with a closed connection instead of answered with `master:error frame_too_large`.
IMHUB_MAX_FRAME_BYTES = env.int("IMHUB_MAX_FRAME_BYTES", default=1_000_000)
# Plausible times in frames (epoch ms): not older than this many days, not later than this many seconds
# ahead of now; others are refused with `implausible_time` (seconds sent as ms, year 2100, 0, -1).
IMHUB_TIME_MAX_AGE_DAYS = env.float("IMHUB_TIME_MAX_AGE_DAYS", default=7300.0)
IMHUB_TIME_MAX_AHEAD = env.float("IMHUB_TIME_MAX_AHEAD", default=86400.0)
# /healthz reports the disk under IMHUB_VAR_DIR as failing below this much free space (MB).
IMHUB_MIN_FREE_MB = env.int("IMHUB_MIN_FREE_MB", default=50)
# Login throttling (accounts/throttle.py): failures allowed per user name and per source address within
# the window before that source is locked out for it (429 + Retry-After); proxies whose X-Forwarded-For
# names the client.
IMHUB_LOGIN_FAILURES_PER_USER = env.int("IMHUB_LOGIN_FAILURES_PER_USER", default=5)
IMHUB_LOGIN_FAILURES_PER_ADDRESS = env.int("IMHUB_LOGIN_FAILURES_PER_ADDRESS", default=20)
IMHUB_LOGIN_LOCKOUT_SECONDS = env.int("IMHUB_LOGIN_LOCKOUT_SECONDS", default=900)
IMHUB_TRUSTED_PROXIES = env.list("IMHUB_TRUSTED_PROXIES", default=[])
IMHUB_HEARTBEAT_INTERVAL = env.float("IMHUB_HEARTBEAT_INTERVAL", default=10.0)
# One live connection per worker token: a second one is refused (close 4409, WARNING, shown in admin);
# true: the newer connection replaces the live one instead.
IMHUB_WORKER_CONNECTION_REPLACE = env.bool("IMHUB_WORKER_CONNECTION_REPLACE", default=False)
IMHUB_REPLY_DEADLINE = env.float("IMHUB_REPLY_DEADLINE", default=300.0)
# Each account's write queue (replies), unless the account sets its own: seconds between two writes,
# writes per rolling hour and per rolling 24 h, quiet hours (HH:MM-HH:MM in IMHUB_TIME_ZONE, empty: none).
IMHUB_WRITE_GAP = env.float("IMHUB_WRITE_GAP", default=3.0)
IMHUB_WRITE_HOURLY_CAP = env.int("IMHUB_WRITE_HOURLY_CAP", default=120)
IMHUB_WRITE_DAILY_CAP = env.int("IMHUB_WRITE_DAILY_CAP", default=1000)
IMHUB_QUIET_HOURS = env.str("IMHUB_QUIET_HOURS", default="")
IMHUB_TIME_ZONE = env.str(
    "IMHUB_TIME_ZONE", default="Asia/Shanghai"
)  # the platform's; quiet hours are read in it
IMHUB_EVENT_BUFFER = env.int("IMHUB_EVENT_BUFFER", default=10000)
# an agent socket that falls this many events behind, or whose one send blocks this long, is closed
# (4008): the client reconnects and resumes or resyncs; a socket that never reads costs bounded memory
# with the database down, IM reads go on with credentials and visibility cached up to this long ago
IMHUB_STALE_AUTH_SECONDS = env.float("IMHUB_STALE_AUTH_SECONDS", default=300.0)
IMHUB_AGENT_QUEUE_MAX = env.int("IMHUB_AGENT_QUEUE_MAX", default=2000)
IMHUB_AGENT_SEND_TIMEOUT = env.float("IMHUB_AGENT_SEND_TIMEOUT", default=10.0)
IMHUB_LOGIN_SESSION_TTL = env.float("IMHUB_LOGIN_SESSION_TTL", default=300.0)
# The ASGI read lane answers the IM API's GET routes for JSON clients without Django's request path
# (datasync/im/api/lane.py); 0 sends every request through Django + DRF (for comparison and debugging).
IMHUB_READ_LANE = env.bool("IMHUB_READ_LANE", default=True)
# Start-up snapshot of the DataStore (datasync/snapshot.py): where each hub process keeps it ("" turns
# it off) and how often a serving process rewrites it when its data changed (also once at shutdown).
IMHUB_SNAPSHOT_PATH = env.str("IMHUB_SNAPSHOT_PATH", default=str(VAR_DIR / "datastore.snapshot"))
IMHUB_SNAPSHOT_INTERVAL = env.float("IMHUB_SNAPSHOT_INTERVAL", default=300.0)
# Python's GIL switch interval in a hub process (default: Python's own, 0.005 s). A worker
# connection's database thread waits for the GIL after each round trip; 0.0002 made PostgreSQL ingest
# ~20-30% faster, but with it a worker's WebSocket handshake through nginx to a 2-process hub hung in
# 3 of 10 runs of tests/e2e/test_nginx.py (0 of 11 at 0.005): not the default until that is understood
# (docs/benchmarks.md, "Ingest").
IMHUB_GIL_SWITCH_INTERVAL = env.float("IMHUB_GIL_SWITCH_INTERVAL", default=0.005)
# Optional bearer token required by /metrics (empty: open, e.g. behind a private network).
IMHUB_METRICS_TOKEN = env.str("IMHUB_METRICS_TOKEN", default="")
# the image hosts pages may load from (Content-Security-Policy img-src; imhub/security.py)
IMHUB_IMAGE_HOSTS = env.list(
    "IMHUB_IMAGE_HOSTS",
    default=["https://*.douyinpic.com", "https://*.douyinstatic.com", "https://*.byteimg.com"],
)

# Serving (`./run.sh hub`, `python -m imhub.serve`, the demo, the e2e tests): the ASGI server, the
# processes sharing one port (more than 1 needs REDIS_URL), and where `./run.sh hub` listens.
IMHUB_SERVER = env.str("IMHUB_SERVER", default="granian")
IMHUB_PROCESSES = env.int("IMHUB_PROCESSES", default=1)
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)

# Worker side (`manage.py runworker_crawler`): the worker's token (printed once by `create_worker`), the
# Chromium to launch ("" : Playwright's own if installed, else the system's) and the Douyin origin.
IMHUB_WORKER_TOKEN = env.str("IMHUB_WORKER_TOKEN", default="")
IMHUB_CHROMIUM = env.str("IMHUB_CHROMIUM", default="")
# Worker side: key of the accounts' storage state kept on the worker's disk (encrypted at rest); empty:
# generated once into <data dir>/<worker id>/keys/state.key (0600).
IMHUB_WORKER_STATE_KEY = env.str("IMHUB_WORKER_STATE_KEY", default="")
IMHUB_DOUYIN_BASE_URL = env.str("IMHUB_DOUYIN_BASE_URL", default="https://creator.douyin.com")
# Push listening (crawler/listener.py): resident pages per worker (LRU by activity; 0 = poll only), and
# seconds between the full reconciliation walks of a listening account's chat.
IMHUB_LISTEN_PAGES = env.int("IMHUB_LISTEN_PAGES", default=50)
IMHUB_RECONCILE_INTERVAL = env.float("IMHUB_RECONCILE_INTERVAL", default=1800.0)
# While an account's listener is up, its periodic crawl (works, their counts, comments of works whose
# count changed) runs at most this often (s; the account's own monitor interval when that is longer):
# DMs come by push and comments by the notices, so the crawl is a safety net, not the way data comes.
IMHUB_LISTEN_CRAWL_INTERVAL = env.float("IMHUB_LISTEN_CRAWL_INTERVAL", default=600.0)

# Logging: one line per event on the console; level from LOG_LEVEL.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "imhub.logging.RedactSecretsFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL if LOG_LEVEL != "DEBUG" else "INFO"},
        "daphne": {"level": "WARNING"},
        "asyncio": {"level": "WARNING"},
    },
}
