"""Settings for the consortium portal, read from the environment.

Defaults give the embedded mode: SQLite and a filesystem broker under var/, so a fresh machine with
only Python runs everything. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Under pytest the embedded database, broker and media live apart from a running demo's.
TESTING = "pytest" in sys.modules
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var" / ("test" if TESTING else ""))))
SHARED_DIR = BASE_DIR.parent / "shared"

env = environ.Env()

# Fail closed: a deployment that sets nothing runs in production mode (DEBUG off, a SECRET_KEY
# required, no demo). Development asks for itself: PORTAL_ENV=development (set by `make run`,
# `make test`, the other Makefile targets and tests/settings.py), or DEBUG=1.
PORTAL_ENV = env.str("PORTAL_ENV", default="production")
if PORTAL_ENV not in ("production", "development"):
    raise ImproperlyConfigured(f"PORTAL_ENV must be 'production' or 'development', not {PORTAL_ENV!r}.")
DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"
DEBUG = env.bool("DEBUG", default=PORTAL_ENV == "development")
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production mode).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Demo mode, only when set (DEMO_MODE=1; `make run` sets it): `seed_demo` may run, and the seeded
# demo accounts (Person.is_demo) may use staff pages and chair powers without MFA.
DEMO_MODE = env.bool("DEMO_MODE", default=False)
SITE_NAME = env.str("SITE_NAME", default="Consortium Portal")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its templates, so that consortium/templates can override the error list
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "consortium.common",
    "consortium.audit",
    "consortium.members",
    "consortium.portal",
    "consortium.licensing",
    "workinggroups",
    "submissions",
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
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "consortium.portal.middleware.StaffMfaRequiredMiddleware",
]

ROOT_URLCONF = "consortium.urls"
WSGI_APPLICATION = "consortium.wsgi.application"

# Form errors render with role="alert" (consortium/templates/django/forms/errors/list/ul.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "consortium" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consortium.portal.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite file by default; WAL and immediate transactions let the web process, the worker
# and beat write to it at the same time without "database is locked".
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that worker processes started by the tests share the test database.
    # One per test process, so that two test runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "members.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): email is the login, verified before use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_ADAPTER = "consortium.members.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "consortium.members.forms.SignupForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGIN_URL = "account_login"
LOGOUT_REDIRECT_URL = "portal:home"

# Email: console by default; EMAIL_URL (smtp://user:pass@host:587) for a real server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@example.org")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (consortium/common/mail.py): seconds before an SMTP operation gives up; retries with
# backoff (OUTBOX_BACKOFF_BASE doubling up to OUTBOX_BACKOFF_MAX) for OUTBOX_MAX_ATTEMPTS tries
# (about two days by default); a claim older than OUTBOX_CLAIM_TIMEOUT belongs to a sender that
# died and is sent again; mail held for a recipient who may not know yet is withheld after
# OUTBOX_HOLD_DAYS.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
OUTBOX_BACKOFF_BASE = env.int("OUTBOX_BACKOFF_BASE", default=30)
OUTBOX_BACKOFF_MAX = env.int("OUTBOX_BACKOFF_MAX", default=3600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=50)
OUTBOX_CLAIM_TIMEOUT = env.int("OUTBOX_CLAIM_TIMEOUT", default=max(300, EMAIL_TIMEOUT * 10))
OUTBOX_HOLD_DAYS = env.int("OUTBOX_HOLD_DAYS", default=180)
# The queue the outbox's tasks go to (a worker must consume it; the default queue by default).
OUTBOX_QUEUE = env.str("OUTBOX_QUEUE", default="default")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
# allauth in the portal's own words ("Log in", sentence case): consortium/locale/en (compiled .mo committed).
LOCALE_PATHS = [BASE_DIR / "consortium" / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Client addresses: only trust X-Forwarded-For from these proxies (audit log, signatures).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# One cache for every web process (login rate limits count across them) when Redis is configured.
# Tests keep a local cache: clearing a Redis cache would flush the broker's database too.
if env.str("REDIS_URL", default="") and not TESTING:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "portal",
        }
    }

# Celery. REDIS_URL switches from the embedded filesystem broker to Redis.
REDIS_URL = env.str("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        # The filesystem transport polls its folder; the default (1 s) idles a worker between checks.
        "polling_interval": 0.2,
        "store_processed": False,
    }
    # The filesystem transport needs its folders; web, worker and beat all read these settings.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# Hard time limit of each check kind, in seconds (the soft limit is 30 s earlier). The broker's
# visibility timeout is derived from the longest, so that a message of a check still running is
# not handed to a second worker (STYLE.md, Celery tasks).
CHECK_HARD_TIME_LIMIT = env.int("CHECK_HARD_TIME_LIMIT", default=1800)
CHECK_TIME_LIMITS = {
    "unpack": min(600, CHECK_HARD_TIME_LIMIT),
    "system_descriptions": min(300, CHECK_HARD_TIME_LIMIT),
    "result_files": CHECK_HARD_TIME_LIMIT,
    "package_rules": CHECK_HARD_TIME_LIMIT,
    "official_verifier": CHECK_HARD_TIME_LIMIT,
    "scores": min(600, CHECK_HARD_TIME_LIMIT),
}
CHECK_MAX_ATTEMPTS = env.int("CHECK_MAX_ATTEMPTS", default=3)
# The official checker parses untrusted logs: it runs with a scrubbed environment in its own scratch
# directory, under these limits (CPU seconds, address space, size of any file it writes).
OFFICIAL_CHECKER_CPU_SECONDS = env.int("OFFICIAL_CHECKER_CPU_SECONDS", default=CHECK_HARD_TIME_LIMIT)
OFFICIAL_CHECKER_MEMORY_BYTES = env.int("OFFICIAL_CHECKER_MEMORY_BYTES", default=4 * 1024**3)
OFFICIAL_CHECKER_FILE_BYTES = env.int("OFFICIAL_CHECKER_FILE_BYTES", default=256 * 1024**2)
# A queued check whose message has not been picked up for this long is announced again.
CHECK_REQUEUE_AFTER = env.int("CHECK_REQUEUE_AFTER", default=600)
SUBMISSION_MAX_ARCHIVE_BYTES = env.int("SUBMISSION_MAX_ARCHIVE_BYTES", default=4 * 1024**3)
SUBMISSION_UPLOADS_PER_DAY = env.int("SUBMISSION_UPLOADS_PER_DAY", default=20)
# An upload's partial file in the store's incoming/ folder untouched this long belongs to a dead
# process; the archives sweep (beat) removes it, with every stored blob no version refers to.
SUBMISSION_INCOMING_MAX_AGE = env.int("SUBMISSION_INCOMING_MAX_AGE", default=3600)
WORKINGGROUPS_JOIN_COOLDOWN_DAYS = env.int("WORKINGGROUPS_JOIN_COOLDOWN_DAYS", default=30)
LICENSING_DOWNLOAD_LINK_SECONDS = env.int("LICENSING_DOWNLOAD_LINK_SECONDS", default=600)
# Uploads stream to disk: nothing larger than this stays in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CHECK_HARD_TIME_LIMIT * 2
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"common.*": {"queue": OUTBOX_QUEUE}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each app keeps its periodic tasks in a plain-data beat.py; they are merged here.
from consortium.common.beat import SCHEDULE as _COMMON_BEAT  # noqa: E402
from consortium.licensing.beat import SCHEDULE as _LICENSING_BEAT  # noqa: E402
from submissions.beat import SCHEDULE as _SUBMISSIONS_BEAT  # noqa: E402
from workinggroups.beat import SCHEDULE as _WORKINGGROUPS_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE: dict = {**_COMMON_BEAT, **_WORKINGGROUPS_BEAT, **_SUBMISSIONS_BEAT, **_LICENSING_BEAT}
# The reaper's tick (beat): how often stale running and lost queued checks are looked for.
CHECK_REAPER_INTERVAL = env.float("CHECK_REAPER_INTERVAL", default=30.0)
CELERY_BEAT_SCHEDULE["submissions-reap-lost-checks"] = {
    **CELERY_BEAT_SCHEDULE["submissions-reap-lost-checks"],
    "schedule": CHECK_REAPER_INTERVAL,
    # A tick not run by the next one is dropped: reaper runs never pile up behind busy workers.
    "options": {"expires": CHECK_REAPER_INTERVAL},
}
# Workers write a heartbeat this often; one older than WORKER_STALE_AFTER counts as gone.
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=15)
WORKER_STALE_AFTER = env.int("WORKER_STALE_AFTER", default=60)
WORKER_POOL = env.str("WORKER_POOL", default="default")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Production hardening, checked by `manage.py check --deploy`.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
