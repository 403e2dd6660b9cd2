"""Settings of the notes platform: one module, every varying value from a NOTES_* variable.

Defaults run the embedded set-up on one machine: SQLite, django-q2's ORM broker, local media
under NOTES_DATA_DIR and the committed model. Production sets DATABASE_URL (PostgreSQL),
NOTES_SECRET_KEY, NOTES_ALLOWED_HOSTS, NOTES_HTTPS=1 and, optionally, NOTES_REDIS_URL (cache)
and NOTES_S3_BUCKET (media); see .env.example.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from notesite.env import env_bool, env_float, env_int, env_list, env_path, env_secret_file, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("NOTES_DATA_DIR", BASE_DIR / "var")

DEBUG = env_bool("NOTES_DEBUG", False)
# The key itself, or a file holding it (what `make run` writes, and what secret stores mount).
SECRET_KEY = env_str("NOTES_SECRET_KEY") or env_secret_file("NOTES_SECRET_KEY_FILE")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set NOTES_SECRET_KEY or NOTES_SECRET_KEY_FILE (make run creates var/secret-key)."
        )
    SECRET_KEY = "insecure-development-key"  # DEBUG only, never served to the world
ALLOWED_HOSTS = env_list("NOTES_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("NOTES_CSRF_TRUSTED_ORIGINS", [])

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "csp",
    "accounts",
    "recognition",
    "notesite",  # its start-up checks of S3 and Redis (notesite/checks.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "notesite.urls"
WSGI_APPLICATION = "notesite.wsgi.application"

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
            ],
        },
    },
]

# Database: SQLite by default, anything dj-database-url reads from DATABASE_URL otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("NOTES_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The web process and the workers write concurrently: WAL lets readers through, IMMEDIATE
    # transactions and a long timeout turn "database is locked" into a short wait.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: the end-to-end tests' qcluster processes must see the test database
    # (they are given its name). One per test run, so that two runs side by side don't collide.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the cache (login throttling) when set, and the task broker with NOTES_BROKER=redis.
# notesite.checks pings it at start-up. Short timeouts: a lost Redis fails a request, it does
# not hang it.
REDIS_URL = env_str("NOTES_REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
              "LOCATION": "notes_cache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "recognition:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Log-in throttling (accounts/throttle.py): failures are counted per (user name, client address)
# and per client address, never per user name alone, so nobody can lock someone else out.
# Past the free attempts each further failure doubles a wait (from LOGIN_BACKOFF_SECONDS up to
# the window); counts are forgotten after a window without failures.
LOGIN_ATTEMPTS = env_int("NOTES_LOGIN_ATTEMPTS", 5)  # free failures per (user name, address)
LOGIN_ADDRESS_ATTEMPTS = env_int("NOTES_LOGIN_ADDRESS_ATTEMPTS", 20)  # ... per address, any name
LOGIN_ATTEMPTS_WINDOW = env_int("NOTES_LOGIN_ATTEMPTS_WINDOW", 15 * 60)
LOGIN_BACKOFF_SECONDS = env_int("NOTES_LOGIN_BACKOFF_SECONDS", 30)
# Optional safety valve against guessing from very many addresses: this many failures for one
# user name within the window refuse that name from every address (a lock-out a botnet can
# cause, hence off by default: 0).
LOGIN_USERNAME_CEILING = env_int("NOTES_LOGIN_USERNAME_CEILING", 0)
# Attempts per client address per hour at the sign-up page and at password reset requests (the
# API's register uses DRF's "register" rate, with the same client address).
NOTES_SIGNUP_PER_HOUR = env_int("NOTES_SIGNUP_PER_HOUR", 20)
NOTES_PASSWORD_RESET_PER_HOUR = env_int("NOTES_PASSWORD_RESET_PER_HOUR", 5)
# Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed; the client is the right-most
# address in it that is not one of them. Empty: REMOTE_ADDR is the client (checked in
# accounts/apps.py at start-up).
NOTES_TRUSTED_PROXIES = env_list("NOTES_TRUSTED_PROXIES", [])
# Links in e-mails (password reset) point here, never at the Host a request claimed.
NOTES_SITE_URL = env_str("NOTES_SITE_URL", "{}://{}".format(
    "https" if env_bool("NOTES_HTTPS", False) else "http",
    next((h.lstrip(".") for h in ALLOWED_HOSTS if h.strip(".*")), "localhost"),
)).rstrip("/")
# Failed and refused log-ins, sign-ups and resets kept for staff (admin: Auth events).
NOTES_AUTH_EVENT_DAYS = env_int("NOTES_AUTH_EVENT_DAYS", 30)

EMAIL_BACKEND = env_str("NOTES_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("NOTES_FROM_EMAIL", "notes@localhost")
EMAIL_HOST = env_str("NOTES_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("NOTES_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("NOTES_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("NOTES_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("NOTES_EMAIL_USE_TLS", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("NOTES_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env_path("NOTES_MEDIA_ROOT", DATA_DIR / "media")
# Media (originals, page images, thumbnails) go to S3-compatible storage when NOTES_S3_BUCKET
# is set, with the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the machine's role).
# The bucket stays private: files are streamed to their owner through the views. At start-up
# (`manage.py check`, `migrate`, `runserver`, `qcluster`) notesite.checks reaches the bucket,
# so a wrong key, endpoint or bucket stops the start instead of failing an upload.
S3_BUCKET = env_str("NOTES_S3_BUCKET")
S3_ENDPOINT_URL = env_str("NOTES_S3_ENDPOINT_URL")  # MinIO, Ceph, R2...; empty: AWS itself
if S3_ENDPOINT_URL and not S3_ENDPOINT_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"NOTES_S3_ENDPOINT_URL must start with http:// or https://, not {S3_ENDPOINT_URL!r}")
# Most S3-compatible servers only answer path-style requests (http://host/bucket/key).
S3_ADDRESSING_STYLE = env_str("NOTES_S3_ADDRESSING_STYLE", "path" if S3_ENDPOINT_URL else "auto")
if S3_ADDRESSING_STYLE not in {"auto", "path", "virtual"}:
    raise ImproperlyConfigured(
        f"NOTES_S3_ADDRESSING_STYLE must be auto, path or virtual, not {S3_ADDRESSING_STYLE!r}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if S3_BUCKET:
    from botocore.config import Config as S3ClientConfig

    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL or None,
        "region_name": env_str("NOTES_S3_REGION") or None,
        # No ACL header: some stores (and AWS buckets with ACLs disabled) refuse one; a new
        # bucket is private, keep it so.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        # An unreachable store fails a request within seconds instead of hanging a worker.
        "client_config": S3ClientConfig(
            s3={"addressing_style": S3_ADDRESSING_STYLE}, connect_timeout=5, read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3}),
    }}
# Uploads above this stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Ours first: it keeps a file over the upload limits from the others (memory, temporary file).
FILE_UPLOAD_HANDLERS = [
    "recognition.upload_limits.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# What an upload may be (checked on the bytes, not the name).
NOTES_MAX_UPLOAD_BYTES = env_int("NOTES_MAX_UPLOAD_MB", 25) * 1024 * 1024
NOTES_MAX_PDF_PAGES = env_int("NOTES_MAX_PDF_PAGES", 50)
NOTES_MAX_IMAGE_PIXELS = env_int("NOTES_MAX_IMAGE_PIXELS", 80_000_000)
NOTES_MAX_FILES_PER_UPLOAD = env_int("NOTES_MAX_FILES_PER_UPLOAD", 20)
# Django's own hard stop; above ours, so that a few files too many get our readable message.
DATA_UPLOAD_MAX_NUMBER_FILES = NOTES_MAX_FILES_PER_UPLOAD * 5
NOTES_PDF_DPI = env_int("NOTES_PDF_DPI", 200)
# The recognizer: a model file from `ml` (its language model beside it is used too).
NOTES_MODEL_PATH = env_path("NOTES_MODEL_PATH", BASE_DIR / "ml" / "weights" / "crnn.pt")
NOTES_MODEL_THREADS = env_int("NOTES_MODEL_THREADS", 1)
# Seconds one page may take to read: lines not read by then are only located, and the page is
# marked partly read (a pathological page must not hold a worker for minutes).
NOTES_PAGE_SECONDS = env_float("NOTES_PAGE_SECONDS", 8.0, minimum=0)
# The longest line a person may type or import (the API, the note page and imports alike), and
# the most lines one imported transcription may hold.
NOTES_MAX_LINE_CHARS = env_int("NOTES_MAX_LINE_CHARS", 2000)
NOTES_IMPORT_MAX_LINES = env_int("NOTES_IMPORT_MAX_LINES", 5000)
NOTES_IMPORT_MAX_BYTES = env_int("NOTES_IMPORT_MAX_MB", 5) * 1024 * 1024  # parsed in-request
# Words recognized with less confidence than this are marked on the note page.
NOTES_LOW_CONFIDENCE = env_int("NOTES_LOW_CONFIDENCE_PERCENT", 60) / 100

# Background recognition (django-q2). The ORM broker re-delivers a task whose worker died
# after `retry` seconds, so retry must exceed the timeout.
TASK_TIMEOUT = env_int("NOTES_TASK_TIMEOUT", 900)
# A running job writes a heartbeat after every page; one silent for this long lost its worker:
# it is failed (a minute-by-minute check), and the user may retry at once instead of waiting
# for the broker's re-delivery. Longer than the slowest page (NOTES_PAGE_SECONDS plus
# rendering and segmentation).
NOTES_JOB_STALL_SECONDS = env_int("NOTES_JOB_STALL_SECONDS", 300)
# A job still queued after this long lost its task (the broker was down when it was queued).
NOTES_JOB_QUEUE_HOURS = env_int("NOTES_JOB_QUEUE_HOURS", 48)
# Instant recognition (POST /api/v1/recognize/) runs in a cluster of its own, never in the web
# process: `Q_CLUSTER_NAME=instant manage.py qcluster` (make run starts one). The request waits
# this long for its result, then answers 503.
NOTES_INSTANT_SECONDS = env_int("NOTES_INSTANT_SECONDS", 60)
# Requests already waiting for the instant cluster beyond which a new one is refused at once.
NOTES_INSTANT_QUEUE = env_int("NOTES_INSTANT_QUEUE", 8)
# Personal models: a user's recognizer fine-tuned on their corrected lines, in the `training`
# cluster (`Q_CLUSTER_NAME=training manage.py qcluster`; make run starts one). Started by
# itself once a user has NOTES_PERSONAL_MODEL_EVERY corrected lines more than at their last
# fine-tune (0: only on request), never with fewer than NOTES_PERSONAL_MODEL_MIN_LINES.
NOTES_PERSONAL_MODEL_EVERY = env_int("NOTES_PERSONAL_MODEL_EVERY", 100)
NOTES_PERSONAL_MODEL_MIN_LINES = env_int("NOTES_PERSONAL_MODEL_MIN_LINES", 50)
NOTES_PERSONAL_MODEL_MINUTES = env_float("NOTES_PERSONAL_MODEL_MINUTES", 10.0, minimum=0.1)
NOTES_PERSONAL_MODEL_THREADS = env_int("NOTES_PERSONAL_MODEL_THREADS", 1)
# Replay while fine-tuning (so that a model does not forget other hands): lines rendered in the
# training fonts (make fonts), plus real lines sampled from a manifest of base training lines.
NOTES_FONTS_DIR = env_path("NOTES_FONTS_DIR", BASE_DIR / ".cache" / "fonts")
NOTES_REPLAY_MANIFEST = env_str("NOTES_REPLAY_MANIFEST")
Q_CLUSTER = {
    "name": "notes",
    "workers": env_int("NOTES_WORKERS", 2),
    "timeout": TASK_TIMEOUT,
    "retry": TASK_TIMEOUT + 60,
    "max_attempts": 3,
    "catch_up": False,
    "recycle": env_int("NOTES_WORKER_RECYCLE", 200),
    "save_limit": 500,
    "queue_limit": 50,
    "label": "Background tasks",
    "sync": env_bool("NOTES_Q_SYNC", False),
}
Q_CLUSTER["ALT_CLUSTERS"] = {
    "instant": {
        "workers": env_int("NOTES_INSTANT_WORKERS", 1),
        "timeout": NOTES_INSTANT_SECONDS + 30,
        # Never re-delivered: the request that asked has long given up by then.
        "retry": NOTES_INSTANT_SECONDS + 60,
        "max_attempts": 1,
        "recycle": env_int("NOTES_WORKER_RECYCLE", 200),
        "queue_limit": 10,
    },
    # Personal models (recognition/personal/training.py): one fine-tune at a time, niced, on
    # threads of its own, so that recognition never waits behind training. Not re-delivered
    # either: a fine-tune whose worker died is failed later (personal_models_expire_stale) and
    # can be started again.
    "training": {
        "workers": 1,
        "timeout": int(NOTES_PERSONAL_MODEL_MINUTES * 60) + 600,
        "retry": int(NOTES_PERSONAL_MODEL_MINUTES * 60) + 660,
        "max_attempts": 1,
        "recycle": 1,  # a fine-tune leaves hundreds of MB behind: a fresh process each time
        "queue_limit": 2,
    },
}
# The broker: the database (default; delivery receipts, so a dead worker's task is re-run) or
# Redis (faster hand-out, but no receipts: a task whose worker died is lost, and the job stall
# check above fails its job so the user can retry). Every web and worker process of one site
# must use the same one.
NOTES_BROKER = env_str("NOTES_BROKER", "orm")
if NOTES_BROKER == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("NOTES_BROKER=redis needs NOTES_REDIS_URL")
    Q_CLUSTER["redis"] = REDIS_URL
elif NOTES_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
else:
    raise ImproperlyConfigured(f"NOTES_BROKER must be orm or redis, not {NOTES_BROKER!r}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "URL_FORMAT_OVERRIDE": None,  # ?format= is the export format, not a renderer choice
    "DEFAULT_PAGINATION_CLASS": "recognition.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "recognition.api.schema.NotesAutoSchema",
    "EXCEPTION_HANDLER": "recognition.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register": env_str("NOTES_THROTTLE_REGISTER", "20/hour"),
        "recognize": env_str("NOTES_THROTTLE_RECOGNIZE", "30/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Notes digitizer API",
    "DESCRIPTION": (
        "Upload photos or PDFs of handwritten notes, poll recognition, read and correct the "
        "text. Authenticate with `Authorization: Token <token>` (POST /api/v1/auth/token/). "
        "Every error is `{\"error\": {\"code\", \"message\", \"fields\"}}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from here: works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "NoteStatusEnum": "recognition.models.Note.Status",
        "JobStatusEnum": "recognition.models.RecognitionJob.Status",
        "NoteKindEnum": "recognition.models.Note.Kind",
        "RevisionKindEnum": "recognition.models.Revision.Kind",
    },
}

# Behind HTTPS in production: NOTES_HTTPS=1 makes `manage.py check --deploy` clean.
if env_bool("NOTES_HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("NOTES_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("NOTES_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preload lists are hard to leave: only when the operator asks for it.
    SECURE_HSTS_PRELOAD = env_bool("NOTES_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Django's deploy check recommends preloading; leaving it off is a choice, not a slip.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our pages load scripts, styles and images only from this
# site, with no inline script or style at all (tests/test_csp.py scans the templates), so an
# injected <script> or onclick= does not run. Images may also be data: and blob: URLs (Swagger
# UI's icons are data: URLs in its CSS). frame-ancestors is X_FRAME_OPTIONS for browsers that
# read CSP. The API docs page (Swagger UI) gets a per-request nonce for its one inline script,
# see templates/drf_spectacular/swagger_ui.html; pages that never ask for it get none.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("NOTES_LOG_LEVEL", "INFO")},
}
