"""Leadflow settings: one module, every value read from the environment.

Local defaults suit a laptop (SQLite under var/, console email, a filesystem
Celery broker, plain HTTP). ``PRODUCTION=true`` turns the hardening on (HTTPS
redirect, secure cookies, HSTS, hashed static files, a required ``SECRET_KEY``);
with the rest of its environment set, production passes
``manage.py check --deploy --fail-level WARNING``. Importing this module reads
the environment and nothing else: no folder or file is made.
"""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# A deployment says so; everything else is a local run.
PRODUCTION = env.bool("PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=False)
# A local run with DEBUG on (as `make run` sets it) may use the public fallback key; anything
# else (DEBUG off, or PRODUCTION) must bring its own, or sessions and password-reset links
# could be forged.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION or not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off Leadflow refuses to start on a public key: "
            "set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'), or DEBUG=true for a local run."
        )
    SECRET_KEY = "django-insecure-leadflow-local-only-change-me"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "apps.accounts.apps.AxesConfig",  # django-axes, named in each language
    "csp",
    "apps.accounts",
    "apps.criteria",
    "apps.leads",
    "apps.outbox",
    "apps.sla",
    "apps.reports",
    "apps.api",
    "apps.webhooks",
    "apps.demo",
    "leadflow.apps.LeadflowConfig",  # last: it freezes what the apps loaded (see there)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.api.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.UserLanguageMiddleware",
    "apps.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "leadflow.urls"
WSGI_APPLICATION = "leadflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.navigation",
                "apps.accounts.context_processors.time_zones",
                "apps.sla.context_processors.notifications",
            ],
        },
    },
]

# Inputs and selects drawn without a template per option (the lists' filters).
FORM_RENDERER = "leadflow.form_renderer.WidgetRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'leadflow.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, worker and beat share one file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is locked out for LOGIN_LOCKOUT_MINUTES, on the sign-in page
# and the admin's alike. Unknown usernames count and lock exactly as known ones do.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A locked-out attempt does not restart the wait, so the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.login_locked_out"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
# One date format per kind per language (leadflow/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["leadflow.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Production serves the hashed, compressed files `collectstatic` made when deploying; a local
# run serves the source folders as they are. Decided by the environment, not by which files exist.
COLLECTED_STATIC = env.bool("COLLECTED_STATIC", default=PRODUCTION)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not COLLECTED_STATIC

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds an SMTP exchange may hang before the attempt fails (and the outbox retries it).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Leadflow <leadflow@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Absolute address of the site, for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# The admin's CSV import (add and change permission on leads) refuses files larger than this;
# larger files go through `manage.py import_leads`.
LEADFLOW_ADMIN_IMPORT_MAX_BYTES = env.int(
    "LEADFLOW_ADMIN_IMPORT_MAX_BYTES", default=20 * 1024 * 1024
)

# --- Celery ------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, one folder for in and out, so a
# laptop needs no broker server (leadflow/celery.py makes the folder when Celery first
# needs it). Production: CELERY_BROKER_URL=redis://…
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "celery-broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
    }
else:
    # Longer than any task may run (CELERY_TASK_TIME_LIMIT), so Redis never redelivers a running task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # A broker that does not answer must not hold a web request for long (see apps.outbox).
        "socket_connect_timeout": 2,
    }
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Outbox ------------------------------------------------------------------
# Every email (and later webhook) is a row delivered at least once; see apps/outbox.
# A claim lasts this long: longer than one delivery can take (EMAIL_TIMEOUT), after which
# a row whose worker died is delivered again.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
# Failed attempts are retried after 1, 2, 4 … minutes (capped at an hour), this many in all.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
# The right-hand side of each email's stable Message-ID.
OUTBOX_MESSAGE_ID_DOMAIN = env.str(
    "OUTBOX_MESSAGE_ID_DOMAIN", default=urlsplit(SITE_URL).hostname or "leadflow.localhost"
)

# --- Webhooks ----------------------------------------------------------------
# Endpoints must be https:// in production; plain http is allowed for local runs.
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION)
# Hosts (names or addresses) an operator allows although they resolve to loopback, private
# or link-local addresses, e.g. an internal receiver: "hooks.internal,10.0.0.5".
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# One request may take this long (connecting, sending and reading the answer).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Only this much of a receiver's answer is read (and kept in the delivery log).
WEBHOOK_RESPONSE_LIMIT_BYTES = env.int("WEBHOOK_RESPONSE_LIMIT_BYTES", default=4096)
# Retries after 1, 2, 4 … minutes, capped at 4 hours: 14 attempts span about a day. Then
# the endpoint is marked failing (admins are told); after WEBHOOK_PAUSE_AFTER_SECONDS of
# failing without a success, the next delivery that gives up pauses it until an admin resumes it.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=14)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=4 * 3600)
WEBHOOK_PAUSE_AFTER_SECONDS = env.int("WEBHOOK_PAUSE_AFTER_SECONDS", default=3 * 24 * 3600)

# --- API ---------------------------------------------------------------------
# A request body over this many bytes gets 413 before anything reads it.
LEADFLOW_API_MAX_BODY_BYTES = env.int("LEADFLOW_API_MAX_BODY_BYTES", default=5 * 1024 * 1024)
# Lead imports from the UI: the uploaded CSV files wait here for a worker (a folder every
# worker can read: shared storage when the workers run on other machines), up to this size.
LEADFLOW_IMPORT_DIR = Path(env.str("LEADFLOW_IMPORT_DIR", default=str(VAR_DIR / "imports")))
LEADFLOW_IMPORT_MAX_BYTES = env.int("LEADFLOW_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# The live pages (inbox, "To qualify", review queue, the bell) ask "anything new?" this often.
LEADFLOW_LIVE_POLL_SECONDS = env.int("LEADFLOW_LIVE_POLL_SECONDS", default=5)

# Django refuses to buffer bodies over DATA_UPLOAD_MAX_MEMORY_SIZE; keep it no lower than
# the API's own limit so a body the API accepts is never refused half-way (and never a 500).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(LEADFLOW_API_MAX_BODY_BYTES, 2621440)
# Requests per token per minute (fixed one-minute windows); past it, 429 with Retry-After.
LEADFLOW_API_RATE_PER_MINUTE = env.int("LEADFLOW_API_RATE_PER_MINUTE", default=600)
# Where the rate-limit counters live: Redis when a URL is given (or the Celery broker is
# Redis), else a table in the database (the embedded default).
RATE_LIMIT_REDIS_URL = env.str(
    "RATE_LIMIT_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
RATE_LIMIT_KEY_PREFIX = env.str("RATE_LIMIT_KEY_PREFIX", default="leadflow:api-rate")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.LeadCursorPagination",
    "EXCEPTION_HANDLER": "apps.api.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Leadflow API",
    "DESCRIPTION": (
        "Lead intake, engagements and the lead lifecycle. Authenticate with "
        "`Authorization: Token <key>` (`manage.py drf_create_token USERNAME` makes a key). "
        'Every error answers `{"detail": "…"}`; a 400 adds `errors` keyed by field '
        "(or by item index for a list of engagements)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for signed-in users and token holders, not the whole internet.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "apps.leads.models.Stage",
        "FitEnum": "apps.leads.models.Fit",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_common_error_responses",
    ],
}

# Production hardening: on with PRODUCTION, each overridable; a local run speaks plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: scripts and styles only from our own
# static files (no inline script, no inline style; data-driven widths are classes or SVG
# attributes), images also as data: URLs (the admin's and Swagger UI's icons). Every page of
# every role is opened in a browser test that counts violations (tests/browser/test_tour.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every failed sign-in as a warning and its bookkeeping as info.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
