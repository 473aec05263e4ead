"""One settings file, read from the environment.

With nothing set: DEBUG on, SQLite under var/, Celery tasks run in-process.
With DATABASE_URL and REDIS_URL: PostgreSQL and a Celery worker behind Redis.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
PASSPORT_BASE_URL = os.getenv("PASSPORT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "passport",
    "telemetry",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not DEBUG:
    # gunicorn serves the collected static files itself; runserver does that in development.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.getenv("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's page reads run while a task writes.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if os.getenv("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Cache: Redis when configured (shared by every web process, so throttling holds across them);
# otherwise process-local memory.
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one Redis client per pool instead of one per call (config/cache.py).
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.getenv("CACHE_KEY_PREFIX", "bp"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Built passport documents are cached under the hashes of the versions they are made of, so an
# entry never goes stale; the lifetime only bounds memory. 0 turns the cache off.
PASSPORT_DOCUMENT_CACHE_SECONDS = int(os.getenv("PASSPORT_DOCUMENT_CACHE_SECONDS", "3600"))

# Signed exports (passport.documents.signing): the Ed25519 private key (PEM). Without it a
# development key is generated under PASSPORT_SIGNING_KEY_DIR. Retired public keys (PEM files,
# comma-separated) stay in the JWKS so that older signatures remain verifiable.
PASSPORT_SIGNING_KEY_FILE = os.getenv("PASSPORT_SIGNING_KEY_FILE", "")
PASSPORT_SIGNING_KEY_DIR = Path(os.getenv("PASSPORT_SIGNING_KEY_DIR", VAR_DIR / "signing-keys"))
PASSPORT_SIGNING_RETIRED_KEY_FILES = env_list("PASSPORT_SIGNING_RETIRED_KEY_FILES", "")
# PDF reports: rendered by a Celery task, cached per passport version and view. A render is
# stopped after PASSPORT_PDF_TIME_LIMIT_SECONDS (the task's soft time limit; its process is
# killed PASSPORT_PDF_KILL_GRACE_SECONDS later if it does not stop) and its readers are told so;
# a request waits PASSPORT_PDF_WAIT_SECONDS for a render in progress before answering 202.
PASSPORT_PDF_TIME_LIMIT_SECONDS = float(os.getenv("PASSPORT_PDF_TIME_LIMIT_SECONDS", "60"))
PASSPORT_PDF_KILL_GRACE_SECONDS = float(os.getenv("PASSPORT_PDF_KILL_GRACE_SECONDS", "5"))
PASSPORT_PDF_WAIT_SECONDS = float(os.getenv("PASSPORT_PDF_WAIT_SECONDS", "5"))
PASSPORT_PDF_CACHE_SECONDS = int(os.getenv("PASSPORT_PDF_CACHE_SECONDS", str(7 * 24 * 3600)))

# Celery: a real broker with REDIS_URL; in-process execution otherwise.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.getenv("CELERY_QUEUE", "battery-passport")
CELERY_TIMEZONE = "UTC"
# A message that a killed worker left unacknowledged goes back to the queue after this long
# (acks_late); it bounds how late a retry starts.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.getenv("CELERY_VISIBILITY_TIMEOUT_S", "3600")),
}
if os.getenv("CELERY_UNACKED_RESTORE_INTERVAL_S"):
    # How often a worker looks for such messages; kombu's default scans every 10 x 10 s.
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "unacked_restore_interval": int(os.environ["CELERY_UNACKED_RESTORE_INTERVAL_S"]),
        "unacked_restore_throttle": 1,
    }

# Telemetry ingestion (telemetry/services/ingest.py). A batch above either limit is refused
# whole with 413; a collector sends one every minute or so, far below them.
TELEMETRY_MAX_BATCH_ROWS = int(os.getenv("TELEMETRY_MAX_BATCH_ROWS", "100000"))
TELEMETRY_MAX_BATCH_BYTES = int(os.getenv("TELEMETRY_MAX_BATCH_BYTES", str(20 * 1024 * 1024)))
# Raw samples older than this are dropped a month-partition at a time; daily rollups stay.
TELEMETRY_RAW_RETENTION_DAYS = int(os.getenv("TELEMETRY_RAW_RETENTION_DAYS", "400"))
# Monthly sample partitions created ahead of time (PostgreSQL).
TELEMETRY_PARTITIONS_AHEAD_MONTHS = int(os.getenv("TELEMETRY_PARTITIONS_AHEAD_MONTHS", "3"))

# The health pipeline (telemetry/services/processing.py). Batches of one battery arriving within
# this many seconds are analysed in one run.
TELEMETRY_PROCESSING_DELAY_S = int(os.getenv("TELEMETRY_PROCESSING_DELAY_S", "300"))
# A passport version per battery at most this often from telemetry (the daily run always writes
# one when the values moved): Art. 14 asks for data current at least daily, and every version is
# kept forever.
TELEMETRY_PASSPORT_UPDATE_INTERVAL_S = int(os.getenv("TELEMETRY_PASSPORT_UPDATE_INTERVAL_S", "3600"))
# The system resolves an analysis alert only when its cause has not been seen for this long: a
# drift or spread near its threshold comes and goes from one run to the next, and one cause must
# stay one alert, not a new one every other run.
TELEMETRY_ALERT_CLEAR_AFTER_HOURS = float(os.getenv("TELEMETRY_ALERT_CLEAR_AFTER_HOURS", "24"))
# A device bound to batteries that sent nothing for this long raises a "no data" alert.
TELEMETRY_NO_DATA_ALERT_HOURS = float(os.getenv("TELEMETRY_NO_DATA_ALERT_HOURS", "6"))
# Test-only: a run sleeps this long inside its transaction (after feeding, before commit) and
# touches TELEMETRY_TEST_PAUSE_FILE, so a test can kill the worker mid-task. Never set in prod.
TELEMETRY_TEST_PAUSE_S = float(os.getenv("TELEMETRY_TEST_PAUSE_S", "0"))
TELEMETRY_TEST_PAUSE_FILE = os.getenv("TELEMETRY_TEST_PAUSE_FILE", "")

# Periodic tasks (celery -A config beat), all thin wrappers in telemetry/tasks.py.
CELERY_BEAT_SCHEDULE: dict = {
    "telemetry-daily-health": {
        "task": "telemetry.tasks.batteries_process_daily_task",
        "schedule": crontab(hour=2, minute=15),
    },
    "telemetry-processing-sweep": {
        "task": "telemetry.tasks.processing_sweep_task",
        "schedule": float(os.getenv("TELEMETRY_SWEEP_INTERVAL_S", "300")),
    },
    "telemetry-partitions-ahead": {
        "task": "telemetry.tasks.sample_partitions_ensure_task",
        "schedule": crontab(hour=1, minute=5),
    },
    "telemetry-raw-retention": {
        "task": "telemetry.tasks.sample_retention_apply_task",
        "schedule": crontab(hour=1, minute=35),
    },
    "telemetry-rollups-sweep": {
        "task": "telemetry.tasks.battery_rollups_sweep_task",
        "schedule": crontab(hour=0, minute=45),
    },
    "telemetry-no-data-alerts": {
        "task": "telemetry.tasks.devices_check_silence_task",
        "schedule": 900.0,
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # JSON only: the HTML pages are server-rendered templates, not DRF's browsable API.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "passport.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "passport.api.negotiation.PreferenceNegotiation",
    "EXCEPTION_HANDLER": "passport.api.exceptions.api_exception_handler",
    "DEFAULT_METADATA_CLASS": "passport.api.metadata.EndpointMetadata",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "passport.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "passport.api.throttles.AnonymousRateThrottle",
        "passport.api.throttles.AuthenticatedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.getenv("ANON_THROTTLE_RATE", "120/minute"),
        "user": os.getenv("USER_THROTTLE_RATE", "6000/minute"),
        # Per collector device key (telemetry batches); a collector sends about one a minute.
        "device": os.getenv("DEVICE_THROTTLE_RATE", "600/minute"),
        # Passwords and claim codes tried, per client address (passport.throttling).
        "credentials": os.getenv("CREDENTIALS_THROTTLE_RATE", "30/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "EU Battery Passport API",
    "DESCRIPTION": (
        "Digital battery passports under Regulation (EU) 2023/1542 (Art. 77, Annex XIII) "
        "with access rights per attribute, versioning, and BMS state-of-health data. "
        'Every error body is `{"errors": [{"field", "reason", "index"?}]}`; '
        "see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response bodies differ (write-only inputs, read-only outputs): separate components.
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are checked like any other (their `data` and `reason` are required); a
    # separate "Patched..." component would document every field as optional.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "passport.api.schema.strings_without_nul",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "BatteryStatusEnum": "passport.vocabulary.BatteryStatus",
        "CategoryEnum": "passport.vocabulary.Category",
        "ChemistryEnum": "passport.vocabulary.Chemistry",
        "PassportStateEnum": "passport.vocabulary.PassportState",
        "OrganisationKindEnum": "passport.vocabulary.OrganisationKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Production hardening, all from the environment; `manage.py check --deploy` is clean with
# DEBUG off and the defaults below.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.getenv("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step and font subset at INFO: noise in every PDF render.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "weasyprint.progress", "fontTools")},
}
