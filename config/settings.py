"""Marginalia settings: one module, configured only by environment variables.

Every variable is listed with its default in README.md. Development needs none.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "dev-only-placeholder-secret-key-change-me"  # noqa: S105


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_secret(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise ImproperlyConfigured(f"{name} must not be empty")
    return value


def is_public_host(host: str) -> bool:
    """Can others than this machine reach `host` (an ALLOWED_HOSTS entry)? Loopback names
    and addresses are local; `*`, `.example.org` and every other name or address are not."""
    host = host.strip().lower()
    if host in {"localhost", "testserver"} or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True


def database_from_url(url: str) -> dict:
    """Translate a DATABASE_URL (sqlite:///path or postgres://user@host:port/name)."""
    parsed = urlparse(url)
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)[1:]  # the slash after the empty authority
        if path in {"", ":memory:"}:
            name: str | Path = ":memory:"
        else:
            name = path if Path(path).is_absolute() else BASE_DIR / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        # A server that does not answer must not hold a web worker for minutes.
        options.setdefault("connect_timeout", str(env_int("DB_CONNECT_TIMEOUT", 5)))
        max_age: int | None = env_int("DB_CONN_MAX_AGE", 60)
        if env_bool("DB_POOL", default=False):
            options["pool"] = postgres_pool_options()
            max_age = 0  # the pool keeps the connections; Django must not
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


def postgres_pool_options() -> dict:
    """psycopg's connection pool, per process: for threaded workers (GUNICORN_THREADS > 1),
    where it caps the connections a process opens. Each connection is checked when taken,
    so a pool outlives a PostgreSQL restart."""
    from psycopg_pool import ConnectionPool

    return {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 8),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
        "check": ConnectionPool.check_connection,
    }


def replica_databases(urls: list[str]) -> dict[str, dict]:
    """Read replicas as aliases replica1, replica2…; tests read them as the primary."""
    replicas = {}
    for number, url in enumerate(urls, start=1):
        replica = database_from_url(url)
        replica["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{number}"] = replica
    return replicas


DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_secret("SECRET_KEY", PLACEHOLDER_SECRET)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "Marginalia")

if not DEBUG and SECRET_KEY == PLACEHOLDER_SECRET:
    raise ImproperlyConfigured("Set SECRET_KEY: production refuses the placeholder key")
# DEBUG shows stack traces, settings and SQL to whoever triggers an error: never on a host
# that others can reach.
if DEBUG and (exposed := [host for host in ALLOWED_HOSTS if is_public_host(host)]):
    raise ImproperlyConfigured(
        f"DEBUG is on while ALLOWED_HOSTS names public hosts ({', '.join(exposed)}): "
        "set DEBUG=false (and a SECRET_KEY) to serve them"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN (CSP: 'self' only)
    "simple_history",
    "csp",
    "axes",
    "core",
    "jobs",
    "sources",
    "annotations",
    "search",
    "citations",
]

MIDDLEWARE = [
    # First, so that a database outage anywhere below answers 503 (config/health.py).
    "config.health.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Values no column can hold (NUL, numbers past 64 bits) answer 400, not 500.
    "config.security.BadInputMiddleware",
    # The Hypothesis client's sign-in popup keeps its opener (annotations/hypothesis/).
    "annotations.hypothesis.middleware.KeepOpenerForSignIn",
    # Last: turns a locked-out sign-in into the lockout page (config/security.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "sources.sharing.members.nav_context",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", "sqlite:///var/marginalia.sqlite3"))
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# The few hand-written hot reads (core/rows.py) run as prepared statements on PostgreSQL;
# off for a pooler in transaction mode that does not keep them (PgBouncer before 1.21).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
# Read replicas (PostgreSQL streaming replication): safe requests read from them, writes and
# whoever just wrote go to the primary (config/db_routers.py).
DATABASES |= replica_databases(env_list("DATABASE_REPLICA_URLS", []))
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["config.db_routers.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(1, "config.db_routers.ReplicaReadsMiddleware")
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "config.security.LoginThrottleBackend",  # refuses a locked-out sign-in before checking it
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "config.staticfiles.FileSystemFinder",  # static/, less the vendored Hypothesis client
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "config.staticfiles.ManifestStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# One cache for rendered citations and counts; LocMem per process unless CACHE_URL names Redis.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }
}
# With a shared cache, sessions are read from it and written through to the database: one
# query less per page. A per-process cache would serve one process's stale copy, so not then.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)

# Uploads: one limit for every file a user sends (texts, metadata exports).
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# What one text revision may become, whatever its format (sources/importers.py): reading
# stops, with a 413 naming the limit, as soon as one is passed. A 27 KB PDF can hold 192
# million characters (pages sharing one content stream), 4 KB inflate to 2 GB.
MAX_TEXT_CHARS = env_int("MAX_TEXT_CHARS", 5_000_000)  # any format
MAX_PDF_PAGE_CHARS = env_int("MAX_PDF_PAGE_CHARS", 100_000)
MAX_PDF_PAGE_BYTES = env_int("MAX_PDF_PAGE_BYTES", 4 * 1024 * 1024)  # decompressed content
MAX_PDF_EXPANSION = env_int("MAX_PDF_EXPANSION", 20)  # content read, × the file's size
PDF_READ_SECONDS = env_int("PDF_READ_SECONDS", 60)
# A page the server fetches itself, for the first annotation on it (sources/web/fetch.py):
# its size after decompression, the time for the whole fetch with its redirects, and
# whether private, loopback and link-local addresses may be fetched (never in production:
# it would open the server's own network to any reader; the tests serve pages on 127.0.0.1).
WEB_CAPTURE_MAX_BYTES = env_int("WEB_CAPTURE_MAX_BYTES", 5 * 1024 * 1024)
WEB_CAPTURE_SECONDS = env_int("WEB_CAPTURE_SECONDS", 10)
WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES = env_bool("WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES", default=False)
# Page images and scans (sources/pages/): a page's pixels, whatever draws them (a scan, an
# image in a PDF), are bounded before anything decodes them (60 MP: A4 at 900 dpi); a scan
# of more pages than OCR_MAX_PAGES is refused (Tesseract reads 20–30 typed pages a minute a core).
MAX_PAGE_PIXELS = env_int("MAX_PAGE_PIXELS", 60_000_000)
OCR_MAX_PAGES = env_int("OCR_MAX_PAGES", 500)
TESSERACT_CMD = env_str("TESSERACT_CMD", "tesseract")
# Rendered page images, on disk (per app server), keyed by the file, page and width; at most
# PAGE_CACHE_ENTRIES images (about 150 KB each), a third dropped when full.
PAGE_CACHE_DIR = env_str("PAGE_CACHE_DIR", str(BASE_DIR / "var" / "page-cache"))
PAGE_CACHE_ENTRIES = env_int("PAGE_CACHE_ENTRIES", 5_000)
MAX_HTML_ELEMENTS = env_int("MAX_HTML_ELEMENTS", 250_000)  # about 1 KB each, parsed
# HTML and Markdown (comments too) nested deeper are not rendered (core/sanitize.py).
MAX_NESTING_DEPTH = env_int("MAX_NESTING_DEPTH", 200)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens first: bad credentials then answer 401 with WWW-Authenticate. Personal
        # tokens (sources/sharing/tokens.py, `mgl_…`), then DRF's single legacy token per user.
        "sources.sharing.tokens.ApiTokenAuthentication",
        "sources.sharing.tokens.LegacyTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only: the interactive explorer is /api/docs/ (Swagger UI, served under the strict
    # Content-Security-Policy); DRF's browsable API needs inline styles.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marginalia API",
    "DESCRIPTION": "Sources, texts, provenance links and imports of a historian's library.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets share the field name "relation": name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "LinkRelationEnum": "sources.models.LinkRelation",
        "EventRelationEnum": "annotations.claims.models.EventRelation",
    },
}

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The Hypothesis client's accounts are `acct:<name>@<authority>` (annotations/hypothesis/).
HYPOTHESIS_AUTHORITY = env_str("HYPOTHESIS_AUTHORITY", "marginalia.local")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this server
# only; no inline script or style, no eval, no plugins, no framing, forms post here only.
# Server data reaches scripts through json_script (type="application/json", not executed).
CSP_REPORTS_TO = env_str("CSP_REPORT_URI", "")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        **({"report-uri": [CSP_REPORTS_TO]} if CSP_REPORTS_TO else {}),
    }
}

# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name
# from one address, that pair waits LOGIN_LOCKOUT_MINUTES. Locking the pair, not the name,
# keeps a stranger from locking a colleague out by typing their name.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# API tokens likewise (sources/sharing/tokens.py), per address: after this many refused
# keys within the window, every token from that address gets 429 until the window passes.
API_TOKEN_FAILURE_LIMIT = env_int("API_TOKEN_FAILURE_LIMIT", AXES_FAILURE_LIMIT)
API_TOKEN_LOCKOUT_MINUTES = env_int(
    "API_TOKEN_LOCKOUT_MINUTES", env_int("LOGIN_LOCKOUT_MINUTES", 15)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Behind the TLS proxy the client's address is the proxy's last X-Forwarded-For entry.
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("BEHIND_TLS_PROXY", default=False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background jobs (jobs/queue.py, jobs/runner.py): run in the request ("inline", development
# and tests) or queued for Celery workers ("celery", production; CELERY_BROKER_URL: Redis).
TASK_QUEUE = env_choice("TASK_QUEUE", "inline", ("inline", "celery"))
# The Celery application jobs are sent to (built in config/celery.py, which jobs cannot import).
JOBS_CELERY_APP = "config.celery.app"
JOB_THRESHOLD_BYTES = env_int("JOB_THRESHOLD_BYTES", 1_000_000)
# A metadata file of more records than this is imported by a job too, however small
# (3,000 CSL-JSON records took about a minute in the request).
JOB_THRESHOLD_RECORDS = env_int("JOB_THRESHOLD_RECORDS", 500)
# An HTML or Markdown text making more elements than this is imported by a job too: bleach
# cleans about 20,000 a second.
JOB_THRESHOLD_ELEMENTS = env_int("JOB_THRESHOLD_ELEMENTS", 20_000)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
# Formatted exports (bibliographies, notes) of more sources than this run as background jobs:
# pandoc takes ~1.3 ms per entry the first time, so 1,000 stay within a request's budget.
EXPORT_JOB_THRESHOLD = env_int("EXPORT_JOB_THRESHOLD", 1_000)
# A library's provenance document (sources + claims past this) is written by a job too.
PROVENANCE_JOB_THRESHOLD = env_int("PROVENANCE_JOB_THRESHOLD", 2_000)
JOB_TIME_LIMIT = env_int("JOB_TIME_LIMIT", 3600)
# A worker's CPU priority (`nice`, 0–19; jobs/priority.py): background work yields the
# processor to requests. 0 keeps the priority the worker was started with.
JOB_NICENESS = env_int("JOB_NICENESS", 10)
if not 0 <= JOB_NICENESS <= 19:
    raise ImproperlyConfigured(f"JOB_NICENESS must be between 0 and 19, not {JOB_NICENESS}")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message is redelivered when its worker has not acknowledged it for this long: longer
# than the longest job, or a running job would be delivered twice (jobs/queue.py locks).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("JOB_VISIBILITY_TIMEOUT", JOB_TIME_LIMIT + 600),
    # Look for messages of lost workers every 10 s (one cheap Redis query) once their
    # visibility timeout has passed, rather than kombu's default of every 100 s.
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_DEFAULT_QUEUE = env_str("JOB_QUEUE_NAME", "marginalia")
# Acknowledge after the job, and give the message back if the worker dies mid-job.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = JOB_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT + 60
CELERY_TASK_IGNORE_RESULT = True  # a job's state and result live in its Job row
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING below, as JSON

# JSON lines in production (config/logging.py), plain text while developing.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
