"""RareDerm settings, read from the environment (see README, "Settings").

Every variable has an embedded default that serves a single-machine run:
an SQLite file under the data folder and Celery tasks run inline. Production
sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL (PostgreSQL) and
CELERY_BROKER_URL (Redis).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import csp.constants as csp
import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config import env, production
from config.env import env_bool, env_choice, env_float, env_int, env_list, env_rate, env_str
from curation import licences as _licences  # Django-free: reads the SPDX list

# A value that cannot be used is noted, and all of them are reported together
# at the end of this file (one message, not one traceback per try).
env.collect()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR") or BASE_DIR / "data")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

# Only ever used with DEBUG on (refused at the end of this file otherwise).
_DEV_SECRET_KEY = "django-insecure-rarederm-development-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address, for links made outside a request (e-mails, commands).
# Unset, a page's links use the address it was asked at (config/site.py);
# `make run` sets it to the address it serves.
SITE_URL = env_str("SITE_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "simple_history",
    "csp",
    "axes",
    "accounts",
    "outbox",
    "citations",
    "screening",
    "curation",
    "config",  # manage.py preflight
]

MIDDLEWARE = [
    # /healthz answers before host validation: probes ask by address (config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # 503 with a page saying so when the database is down (config/errors.py).
    "config.errors.DatabaseDownAnswers503",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a locked-out login with accounts.throttle.lockout_response (last, as axes asks).
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
                "accounts.context_processors.roles",
                "curation.context_processors.review_queue",
                # After Django's own CSRF processor: a page being kept gets a placeholder.
                "config.pagecache.csrf",
            ],
        },
    },
]

# Database: an SQLite file under DATA_DIR unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'rarederm.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# A read replica of the primary for the public's reads (config/replica.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
# Seconds the replica may lag: search counts read from it are not cached for
# that long after a change (curation/search/cache.py).
DATABASE_REPLICA_LAG = env_float("DATABASE_REPLICA_LAG", 5.0, minimum=0.0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
    MIDDLEWARE.insert(1, "config.replica.PublicReadsMiddleware")
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
for _database in DATABASES.values():
    if _database["ENGINE"].endswith("postgresql"):
        _database.setdefault("OPTIONS", {})["connect_timeout"] = env_int(
            "DATABASE_CONNECT_TIMEOUT", 5, minimum=1
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (accounts/throttle.py): the first backend refuses a locked-out
# account or client address before the second one hashes a password.
AUTHENTICATION_BACKENDS = [
    "accounts.throttle.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Proxies in front of gunicorn that append the client's address to
# X-Forwarded-For: 1 behind deploy/nginx.conf.template, 0 when nothing is.
FORWARDED_FOR_PROXIES = env_int("FORWARDED_FOR_PROXIES", 0, minimum=0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Either one counts: an account guessed at from many addresses, or one
# address guessing at many accounts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = False  # one's own good login must not clear an address's count
# A refused attempt during a pause is not counted: one log line per lockout, and
# the pause ends LOGIN_LOCKOUT_MINUTES after the failure that started it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# The log lines name the account and the address (the password is never logged).
AXES_SENSITIVE_PARAMETERS: list[str] = []
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "curation:home"
LOGOUT_REDIRECT_URL = "curation:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected static files belong to the code, not to the data: an image carries
# them (a data volume would keep an old release's assets after an upgrade).
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Figures of cases (curation/models/figure.py): originals and their web
    # derivatives, named by the SHA-256 of the original's content. Served by
    # RareDerm's own view (permissions, headers), never straight from the
    # folder or bucket. FIGURE_STORAGE=s3 below puts them in a bucket.
    "figures": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "figures", "base_url": None},
    },
    # Releases (curation/actions/releases.py): each one's files under "<name>/",
    # written once and never rewritten.
    "releases": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "releases", "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Figures (curation/images.py): the largest file taken, in bytes (25 MB), the
# most pixels one image may have (a decompression bomb is refused before it is
# decoded), and the most pages a TIFF may have (only the first is kept).
FIGURE_MAX_BYTES = env_int("FIGURE_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
FIGURE_MAX_PIXELS = env_int("FIGURE_MAX_PIXELS", 80_000_000, minimum=10_000)
FIGURE_MAX_PAGES = env_int("FIGURE_MAX_PAGES", 10, minimum=1)

# Where figures' files are kept: a folder under DATA_DIR (one machine, or a
# volume that every web and worker process mounts), or an S3-compatible bucket
# (AWS S3, MinIO, Ceph...) through django-storages, which several hosts share.
FIGURE_STORAGE = env_choice("FIGURE_STORAGE", "filesystem", ("filesystem", "s3"))
FIGURE_S3_BUCKET = env_str("FIGURE_S3_BUCKET")
FIGURE_S3_ENDPOINT_URL = env_str("FIGURE_S3_ENDPOINT_URL")
FIGURE_S3_REGION = env_str("FIGURE_S3_REGION")
FIGURE_S3_ACCESS_KEY_ID = env_str("FIGURE_S3_ACCESS_KEY_ID")
FIGURE_S3_SECRET_ACCESS_KEY = env_str("FIGURE_S3_SECRET_ACCESS_KEY")


def _s3_storage(bucket: str) -> dict:
    """A bucket of the S3-compatible service the FIGURE_S3_* settings name."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": FIGURE_S3_ENDPOINT_URL or None,
            "region_name": FIGURE_S3_REGION or None,
            # Empty: boto3's own chain (AWS_* variables, an instance role...).
            "access_key": FIGURE_S3_ACCESS_KEY_ID or None,
            "secret_key": FIGURE_S3_SECRET_ACCESS_KEY or None,
            # Private objects: every file goes through RareDerm's checks.
            "default_acl": "private",
            "querystring_auth": True,
            # An existing name is never overwritten (a release is never rewritten).
            "file_overwrite": False,
        },
    }


if FIGURE_STORAGE == "s3":
    if not FIGURE_S3_BUCKET:
        env.refuse("FIGURE_STORAGE=s3 needs FIGURE_S3_BUCKET, the bucket's name.")
    STORAGES["figures"] = _s3_storage(FIGURE_S3_BUCKET)

# Where releases' files are kept: DATA_DIR/releases, or (RELEASE_STORAGE=s3) a
# bucket of the same S3-compatible service as the figures (endpoint, region and
# credentials: the FIGURE_S3_* settings), e.g. one that serves downloads at scale.
RELEASE_STORAGE = env_choice("RELEASE_STORAGE", "filesystem", ("filesystem", "s3"))
RELEASE_S3_BUCKET = env_str("RELEASE_S3_BUCKET")
if RELEASE_STORAGE == "s3":
    if not RELEASE_S3_BUCKET:
        env.refuse("RELEASE_STORAGE=s3 needs RELEASE_S3_BUCKET, the bucket's name.")
    STORAGES["releases"] = _s3_storage(RELEASE_S3_BUCKET)

# The licence a release's data carry (an SPDX id of curation/vocabularies/licences.json);
# the release's README and LICENSE.txt name it.
RELEASE_LICENCE = env_str("RELEASE_LICENCE", "CC-BY-4.0")
if _licences.lookup(RELEASE_LICENCE) is None:
    env.refuse(
        f"RELEASE_LICENCE={RELEASE_LICENCE!r} is not an SPDX id RareDerm knows (CC-BY-4.0)."
    )

# Readers' error flags (curation/actions/flags.py): at most FLAG_RATE_LIMIT flags
# from one client address in FLAG_RATE_MINUTES minutes.
FLAG_RATE_LIMIT = env_int("FLAG_RATE_LIMIT", 5, minimum=1)
FLAG_RATE_MINUTES = env_int("FLAG_RATE_MINUTES", 60, minimum=1)
# Suggested papers (screening/actions.py, suggest_paper): at most
# SUGGESTION_RATE_LIMIT from one client address in SUGGESTION_RATE_MINUTES minutes.
SUGGESTION_RATE_LIMIT = env_int("SUGGESTION_RATE_LIMIT", 10, minimum=1)
SUGGESTION_RATE_MINUTES = env_int("SUGGESTION_RATE_MINUTES", 60, minimum=1)
# Readers' registrations (accounts/registration.py): at most REGISTRATION_RATE_LIMIT
# from one client address in REGISTRATION_RATE_MINUTES minutes.
REGISTRATION_RATE_LIMIT = env_int("REGISTRATION_RATE_LIMIT", 3, minimum=1)
REGISTRATION_RATE_MINUTES = env_int("REGISTRATION_RATE_MINUTES", 60, minimum=1)
# Candidates known by PMID alone (suggestions, chased papers) get their PubMed record
# (title, abstract, journal, year) by a task (efetch, batches of at most 200).
FETCH_CANDIDATE_RECORDS = env_bool("FETCH_CANDIDATE_RECORDS", True)

# Redis, when there is one, serves the cache and the deployment-wide NCBI rate
# limiter. By default it is the Celery broker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
REDIS_URL = env_str("REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
# Every key RareDerm writes in Redis (cache, NCBI rate limiter and, when set
# to anything but the default, Celery's queues) starts with this, so that
# several deployments, or a test run, can share one Redis database.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "rarederm")
if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", REDIS_KEY_PREFIX):
    env.refuse(
        f"REDIS_KEY_PREFIX={REDIS_KEY_PREFIX!r}: use 1-64 letters, digits, '.', '_' or '-'."
    )
    REDIS_KEY_PREFIX = "rarederm"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Search counts, statistics and gene pages cached per registry generation
# (curation/search/cache.py). On by default only with Redis: a locmem cache is
# per process, so another worker would not see a publication's bump.
SEARCH_CACHE = bool(REDIS_URL)
# After a change, the facet index (curation/search/bitmaps.py) and the cached answer
# pages are recomputed by one process in a thread while every request is served the
# previous value: no reader waits for the recomputation.
SEARCH_REFRESH_IN_BACKGROUND = env_bool("SEARCH_REFRESH_IN_BACKGROUND", True)
# Anonymous readers' search, review table, answer, gene and case pages rendered once per
# registry generation (a case page also per its open error reports and releases), and the
# citation list once per citations generation, then kept in the cache
# (config/pagecache.py; with Redis only).
PAGE_CACHE = env_bool("PAGE_CACHE", True)

# Celery. No broker configured means tasks run inline, in the web process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged after it ran, and a worker that dies mid-task (OOM,
# SIGKILL) puts it back on the queue: tasks are idempotent, so running one
# twice is safe, losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the hard time limit, so that a running task is not handed to
    # a second worker while the first is still on it.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 600,
    "socket_connect_timeout": 2,
}
if REDIS_KEY_PREFIX != "rarederm":
    # Unprefixed by default, as in earlier releases: messages already queued
    # under the old names are not stranded by an upgrade.
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{REDIS_KEY_PREFIX}:"
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks, run by `celery -A config beat`. Each app adds its entries.
# Only the beat holding a lock in Redis sends them (config/beat.py): a second
# beat stands by instead of sending every task twice.
CELERY_BEAT_SCHEDULER = "config.beat:SingletonScheduler"
# Beat's record of when each task last ran (`celery beat` needs no --schedule).
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# A fetch job and its batches are rows before they are messages: this puts
# back on the queue those whose message was lost (the broker was down) and
# those whose worker died mid-fetch. Every 10 s, so that a dead worker's
# batch is running again within a minute (README, "Reliability").
CELERY_BEAT_SCHEDULE["citations-sweep-fetch-jobs"] = {
    "task": "citations.sweep_fetch_jobs",
    "schedule": 10.0,
}
# Every e-mail is an outbox row written with what causes it (outbox/actions.py):
# this sends those whose message the broker refused or lost, and retries due.
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {"task": "outbox.sweep", "schedule": 30.0}
# Figures committed while the broker was down get their web copies, and
# open-access fetches asked then are run (curation/tasks.py, sweep_figures).
# A release of everything published, on the first of every month at 03:00
# (curation.make_monthly_release; a month whose release exists is skipped).
CELERY_BEAT_SCHEDULE["curation-monthly-release"] = {
    "task": "curation.make_monthly_release",
    "schedule": crontab(minute=0, hour=3, day_of_month=1),
}
CELERY_BEAT_SCHEDULE["curation-sweep-figures"] = {
    "task": "curation.sweep_figures",
    "schedule": 60.0,
}
# Saved PubMed searches (citations/actions/searches.py): every hour, those whose
# daily or weekly schedule is due are queued; a run takes what PubMed added since
# the last good one, so a missed or failed run is caught up by the next.
CELERY_BEAT_SCHEDULE["citations-saved-searches"] = {
    "task": "citations.run_due_saved_searches",
    "schedule": crontab(minute=17),
}
# The weekly screening digest to curators (screening/digest.py), Mondays 07:00:
# written to the outbox once per curator and ISO week.
CELERY_BEAT_SCHEDULE["screening-weekly-digest"] = {
    "task": "screening.send_weekly_digest",
    "schedule": crontab(minute=0, hour=7, day_of_week=1),
}
# Readers' subscriptions (curation/subscriptions.py): every day at 06:30 the digests due
# (daily, or a week after the last) are written to the outbox, one e-mail per reader.
CELERY_BEAT_SCHEDULE["curation-subscription-digests"] = {
    "task": "curation.send_subscription_digests",
    "schedule": crontab(minute=30, hour=6),
}
# The retraction and correction watch (citations/actions/refresh.py): every cited
# PMID fetched again on the 2nd of each month at 04:00; a failed run is caught up by
# the next (oldest check first) or by `manage.py refresh_citations`.
CELERY_BEAT_SCHEDULE["citations-refresh-cited"] = {
    "task": "citations.refresh_cited",
    "schedule": crontab(minute=0, hour=4, day_of_month=2),
}

# NCBI E-utilities (citations/entrez.py is the only module that uses these).
ENTREZ_EMAIL = env_str("ENTREZ_EMAIL", production.EXAMPLE_ENTREZ_EMAIL)
ENTREZ_TOOL = env_str("ENTREZ_TOOL", "rarederm")
ENTREZ_API_KEY = env_str("ENTREZ_API_KEY")
ENTREZ_BASE_URL = env_str("ENTREZ_BASE_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/")
ENTREZ_TIMEOUT = env_float("ENTREZ_TIMEOUT", 20.0, minimum=0.1)
# Seconds for a whole answer, first byte to last (a trickling server is cut off).
ENTREZ_DEADLINE = env_float("ENTREZ_DEADLINE", 60.0, minimum=0.1)
ENTREZ_MAX_TRIES = env_int("ENTREZ_MAX_TRIES", 5, minimum=1)
ENTREZ_BATCH_SIZE = env_int("ENTREZ_BATCH_SIZE", 200, minimum=1)
ENTREZ_RATE_LIMIT = env_float("ENTREZ_RATE_LIMIT", 10.0 if ENTREZ_API_KEY else 3.0, minimum=0.1)
ENTREZ_CACHE_DIR = DATA_DIR / "entrez-cache"
# Longest PubMed record read (characters): PubMed's are well under 1 MB; an
# element still open past this is skipped, so a broken file cannot fill memory.
PUBMED_MAX_ARTICLE_CHARS = env_int("PUBMED_MAX_ARTICLE_CHARS", 5_000_000, minimum=100_000)
if ENTREZ_MAX_TRIES * ENTREZ_DEADLINE >= CELERY_TASK_SOFT_TIME_LIMIT:
    # A batch whose every try is cut off at the deadline must still end (with
    # a recorded error for its PMIDs) before Celery stops its task.
    env.refuse(
        f"ENTREZ_MAX_TRIES ({ENTREZ_MAX_TRIES}) x ENTREZ_DEADLINE ({ENTREZ_DEADLINE:g} s) must "
        f"stay below CELERY_TASK_SOFT_TIME_LIMIT ({CELERY_TASK_SOFT_TIME_LIMIT} s)."
    )
# PubMed Central's open-access subset (citations/pmc.py): the OA web service,
# NCBI's file server (package links are rewritten onto it), how long a whole
# download may take, and what a package may be: its size, its number of
# files, its size unpacked (a zip bomb is refused before it is unpacked).
PMC_OA_URL = env_str("PMC_OA_URL", "https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi")
PMC_FILES_URL = env_str("PMC_FILES_URL", "https://ftp.ncbi.nlm.nih.gov/")
PMC_DOWNLOAD_DEADLINE = env_float("PMC_DOWNLOAD_DEADLINE", 100.0, minimum=1.0)
PMC_MAX_PACKAGE_BYTES = env_int("PMC_MAX_PACKAGE_BYTES", 200 * 1024 * 1024, minimum=1024)
PMC_MAX_MEMBERS = env_int("PMC_MAX_MEMBERS", 1000, minimum=1)
PMC_MAX_UNPACKED_BYTES = env_int("PMC_MAX_UNPACKED_BYTES", 500 * 1024 * 1024, minimum=1024)
# Citation chasing (elink) of a paper when its first case is published.
CHASE_ON_PUBLISH = env_bool("CHASE_ON_PUBLISH", True)
# First pause (seconds) before retrying a failed NCBI request; doubles per try, with jitter.
ENTREZ_BACKOFF = env_float("ENTREZ_BACKOFF", 1.0, minimum=0.0)
# Seconds a running fetch (one batch, or a job's DOI look-ups) may go without
# a heartbeat before the sweep hands it to another worker. Its task beats
# every sixth of this; a batch whose worker is gone altogether (its worker
# key in Redis expired) goes sooner, a third of this after its last beat.
FETCH_HEARTBEAT_TIMEOUT = env_int("FETCH_HEARTBEAT_TIMEOUT", 60, minimum=6)

# Email: printed to the console unless an SMTP host is configured.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", production.EXAMPLE_FROM_EMAIL)
# An e-mail the mail server did not take is tried again after this many
# seconds, then twice as long each time (at most an hour between tries), up
# to OUTBOX_MAX_ATTEMPTS tries; a permanent refusal (SMTP 5xx) is not retried.
OUTBOX_RETRY_BACKOFF = env_int("OUTBOX_RETRY_BACKOFF", 60, minimum=1)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Personal API tokens (accounts/tokens.py) first: a malformed or revoked key is a
    # 401 on every endpoint; then DRF's defaults (the browser's session, Basic).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
# /api/v1/ (curation/search/api_v1.py): requests without a login per client address,
# "<number>/<second|minute|hour|day>"; more get 429 with Retry-After.
API_ANON_RATE = env_rate("API_ANON_RATE", "120/minute")
# The API (/api/v1/, /api/) per personal API token (accounts/tokens.py), reads and JSON
# drafts together; more get 429 with Retry-After.
API_TOKEN_RATE = env_rate("API_TOKEN_RATE", "600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "RareDerm API",
    "DESCRIPTION": "Published case records of rare skin tumours.",
    "VERSION": "1",
    # Choice sets several fields share get one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "EvidenceGradeEnum": "curation.models.case.Case.Grade",
        "PresenceEnum": "curation.models.case.Case.Presence",
    },
}

# Security. Production (DEBUG=false) is HTTPS-only; behind a TLS-terminating
# proxy set SECURE_PROXY_SSL_HEADER=true.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Scripts, styles and everything else from this site's own static files only:
# no inline script, no on* attribute, no style attribute (issue 11). htmx and
# Chart.js are served from static/ (package.json); htmx's own indicator <style>
# is switched off in base.html and its rules are in rarederm.css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_403_traceback": {"()": "config.errors.NoTracebackForForbidden"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_403_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own console handler (DEBUG only) would print every django.*
    # line a second time, beside the root handler's copy.
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}

# What production asks of these settings (config/production.py): preflight
# reports all of them; with DEBUG off, the ones it cannot run without stop it.
PRODUCTION_PROBLEMS = production.problems(
    debug=DEBUG,
    secret_key=SECRET_KEY,
    development_key=_DEV_SECRET_KEY,
    allowed_hosts=env_list("ALLOWED_HOSTS", []),
    site_url=SITE_URL,
    database_engine=DATABASES["default"]["ENGINE"],
    broker_url=CELERY_BROKER_URL,
    proxy_ssl_header=env_bool("SECURE_PROXY_SSL_HEADER", False),
    ssl_redirect=env_bool("SECURE_SSL_REDIRECT", True),
    entrez_email=ENTREZ_EMAIL,
    email_backend=EMAIL_BACKEND,
    default_from_email=DEFAULT_FROM_EMAIL,
    forwarded_for_proxies=FORWARDED_FOR_PROXIES,
)
# Values that could not be read (their defaults were used meanwhile).
SETTINGS_ERRORS = env.collected()
STARTUP_PROBLEMS = SETTINGS_ERRORS + [
    f"{problem} (DEBUG is off)" for problem in PRODUCTION_PROBLEMS if problem.refused and not DEBUG
]
# `manage.py preflight` loads these settings to report the problems itself.
if STARTUP_PROBLEMS and os.environ.get("RAREDERM_PREFLIGHT") != "1":
    raise ImproperlyConfigured("RareDerm cannot start: " + env.report(STARTUP_PROBLEMS))
