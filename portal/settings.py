"""Settings for the developer portal.

Everything that differs between machines comes from the environment. The defaults
are safe for development; `PORTAL_ENV=production` switches on the hardening that
`manage.py check --deploy` asks for and refuses to start without a real secret key.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.content_policy import PAGE_POLICY
from portal.devsecrets import DEVELOPMENT_SECRETS, development_secrets_in, refusal
from portal.env import env_bool, env_list
from portal.logconfig import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


PORTAL_ENV = os.environ.get("PORTAL_ENV", "development")
PRODUCTION = PORTAL_ENV == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when PORTAL_ENV=production")
    SECRET_KEY = DEVELOPMENT_SECRETS["SECRET_KEY"]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# How many reverse proxies of ours append to X-Forwarded-For (0: believe none of it).
# Also decides whether an incoming X-Request-Id is kept (audit.middleware).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "guardian",
    "csp",
    "accounts",
    "audit",
    "docs",
    "workspaces",
    "keys",
    "usage",
    "sandbox",
    "outbox",
    "webhooks",
    "onboarding",
    "portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "portal.metrics.RequestMetricsMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sign-in is the default; public views say so with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "accounts.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.stage",
                "workspaces.context_processors.organizations",
                "onboarding.context_processors.next_lane",
            ],
        },
    },
]


# --- Data -------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
DATABASES = {
    # Persistent connections: a new connection per request halves throughput here.
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        # A health check is one more round trip on every request that touches the
        # database (it halves key-verification throughput); turn it on where the
        # database may drop idle connections.
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", False),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Each pytest-xdist worker gets its own Redis database for the cache, so that one
# worker's rate-limit counters and cache.clear() never touch another's.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", REDIS_URL)
if _xdist_worker.startswith("gw"):
    _base, _, _db = CACHE_REDIS_URL.rpartition("/")
    CACHE_REDIS_URL = f"{_base}/{1 + int(_xdist_worker[2:]) % 15}"
CACHES = {
    "default": {
        # Fails open: with Redis down, pages still serve (see portal/cache.py).
        "BACKEND": "portal.cache.ResilientRedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "portal",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
    # Sign-in rate limits and used TOTP codes: in PostgreSQL, so that a Redis outage
    # cannot switch them off (portal/cache.py routes allauth's keys here). The table is
    # created by a migration. Culling would forget counters, so the bound is far above
    # what the rate limits let anyone write.
    "auth": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_auth_cache",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    },
}
AUTH_CACHE = "auth"
# Plain database sessions: a signed-out or ended session is gone for good whatever
# Redis does (cached_db deleted the row but kept serving the cached copy when the cache
# delete failed). Costs one indexed query per signed-in request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A signed-in session ends after this long without a request (accounts/middleware.py);
# staff sessions sooner. The cookie never outlives the longer of the two.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(12 * 60 * 60)))
SESSION_IDLE_TIMEOUT_STAFF = int(os.environ.get("SESSION_IDLE_TIMEOUT_STAFF", str(60 * 60)))
SESSION_COOKIE_AGE = max(SESSION_IDLE_TIMEOUT, SESSION_IDLE_TIMEOUT_STAFF)

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Worker lines name the request that enqueued the task, or [-] (portal/logs.py).
CELERY_WORKER_LOG_FORMAT = ("[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] "
                            "%(message)s")
CELERY_WORKER_TASK_LOG_FORMAT = ("[%(asctime)s: %(levelname)s/%(processName)s] "
                                 "%(task_name)s[%(task_id)s] [%(request_id)s]: %(message)s")
# Queues and routing are in portal/celery.py; a prefix gives a test or benchmark worker
# queues of its own on a shared Redis.
CELERY_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}default"
# Every task is stopped eventually; tasks that need another bound set their own.
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
# Publishing from a request gives up quickly when the broker is down: the outbox sweep
# re-sends webhook work and mail falls back to sending inline (accounts/mail.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0,
                                    "interval_step": 0.2, "interval_max": 0.2}
# kombu otherwise retries a refused connection for seconds before a publish even starts
# (6 s per event measured with Redis stopped). A worker's own consumer connection keeps
# retrying as configured by broker_connection_max_retries.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "max_retries": 1,
                                   "interval_start": 0, "interval_step": 0.2,
                                   "interval_max": 0.2}
# Where no broker can run at all, tasks may run inline; never the default.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# The beat schedule is in portal/celery.py, beside the queues its tasks go to.

# --- Accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "access"
SITE_ID = 1

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_FORMS = {"signup": "workspaces.signup.InvitationSignupForm"}
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Mail the person when their password, email addresses or two-factor methods change
# (allauth), and when a browser that never signed in before does (accounts/adapter.py).
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Developer portal] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_RATE_LIMITS = {
    # "key" is (client address, account) (accounts/adapter.py): one client cannot lock
    # another out of an account; the per-address bound stops spraying many accounts.
    "login_failed": "20/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "Developer portal"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# Tracking activity costs five queries on every request; sessions are recorded at sign-in.
USERSESSIONS_TRACK_ACTIVITY = False
USERSESSIONS_ADAPTER = "accounts.adapter.UserSessionsAdapter"
# Guardian's anonymous user needs a username field; we have none and need none.
ANONYMOUS_USER_NAME = None

# How often an organization and a person may do these (workspaces/limits.py):
# {audit action: {"organization" | "person": (at most, within seconds)}}.
PORTAL_ACTION_LIMITS = {
    "member.invited": {"organization": (100, 3600), "person": (30, 3600)},
    "member.invitation_resent": {"organization": (100, 3600), "person": (30, 3600)},
    "member.join_requested": {"organization": (30, 3600), "person": (5, 3600)},
    "organization.domain_claimed": {"organization": (10, 86400), "person": (10, 86400)},
}

# --- Onboarding -------------------------------------------------------------
# Approve sandbox requests at once when the requester's email is verified and they
# belong to the organization; otherwise they wait for a platform reviewer.
SANDBOX_AUTO_APPROVE = env_bool("SANDBOX_AUTO_APPROVE", True)

# --- Domain verification ----------------------------------------------------
# A claimed domain is verified by a TXT record; empty nameservers mean the system's.
DOMAIN_DNS_NAMESERVERS = env_list("DOMAIN_DNS_NAMESERVERS", "")
DOMAIN_DNS_PORT = int(os.environ.get("DOMAIN_DNS_PORT", "53"))
DOMAIN_DNS_TIMEOUT = float(os.environ.get("DOMAIN_DNS_TIMEOUT", "3"))

# --- Keys and the gateway ---------------------------------------------------
# The pepper keys API-key hashes: without it a leaked table verifies nothing.
# Rotating it invalidates every key, so it is set once per deployment.
API_KEY_PEPPER = os.environ.get("API_KEY_PEPPER", "")
if not API_KEY_PEPPER:
    if PRODUCTION:
        raise ImproperlyConfigured("API_KEY_PEPPER must be set when PORTAL_ENV=production")
    API_KEY_PEPPER = DEVELOPMENT_SECRETS["API_KEY_PEPPER"]
# The platform's API gateway authenticates to /api/v1/ with this Bearer token.
GATEWAY_SERVICE_TOKEN = os.environ.get("GATEWAY_SERVICE_TOKEN",
                                       "" if PRODUCTION
                                       else DEVELOPMENT_SECRETS["GATEWAY_SERVICE_TOKEN"])
# Where live keys are used: the production API behind the platform's gateway. Shown with
# every live key and its curl snippet; the sandbox API is this portal's /sandbox/v1/.
PRODUCTION_API_URL = os.environ.get("PRODUCTION_API_URL", "https://api.example.com/v1/")
MAX_ACTIVE_KEYS_PER_WORKSPACE = int(os.environ.get("MAX_ACTIVE_KEYS_PER_WORKSPACE", "10"))
# Per-process cache of verified keys, kept exact by LISTEN/NOTIFY (keys/cache.py).
KEY_CACHE = env_bool("KEY_CACHE", True)
# "transaction" when DATABASE_URL goes through a transaction-mode pooler (PgBouncer):
# LISTEN needs a session, so the key cache turns itself off (with a log line).
DATABASE_POOL_MODE = os.environ.get("DATABASE_POOL_MODE", "session")
KEY_CACHE_MAX_ENTRIES = int(os.environ.get("KEY_CACHE_MAX_ENTRIES", "10000"))
KEY_CACHE_STALE_AFTER = 2.0  # seconds without a listener beat before the cache stops answering
KEY_CACHE_ACK_TIMEOUT = 3.0  # seconds a key change waits for every cache to drop the key
SANDBOX_RATE_LIMIT_PER_SECOND = int(os.environ.get("SANDBOX_RATE_LIMIT_PER_SECOND", "25"))

# --- Webhooks ---------------------------------------------------------------
# Fernet keys encrypting endpoint signing secrets at rest: the first encrypts, all
# decrypt, so a new key is rolled out by putting it first.
WEBHOOK_SECRET_KEYS = env_list("WEBHOOK_SECRET_KEYS", "")
if not WEBHOOK_SECRET_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("WEBHOOK_SECRET_KEYS must be set when PORTAL_ENV=production")
    WEBHOOK_SECRET_KEYS = [DEVELOPMENT_SECRETS["WEBHOOK_SECRET_KEYS"]]
# Development only: lets endpoints on this machine (127.0.0.1) receive webhooks.
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", False)
# One attempt (resolve, connect, TLS, send, status line, headers, 2 KB excerpt) ends
# within this many seconds in all.
WEBHOOK_ATTEMPT_DEADLINE = float(os.environ.get("WEBHOOK_ATTEMPT_DEADLINE", "15"))
# Attempts one endpoint may have in flight across all workers; the rest wait in the
# database, holding no worker. An endpoint that is new, failing, or whose latest
# success took longer than WEBHOOK_QUICK_ANSWER_MS gets the slow cap.
WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT = int(
    os.environ.get("WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT", "4"))
WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = int(os.environ.get("WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT",
                                                        "50"))
# Per workspace and hour: test and sample events, and events sent again (replays and
# single resends), so nobody can use the portal to flood a third party.
WEBHOOK_TEST_EVENTS_PER_HOUR = int(os.environ.get("WEBHOOK_TEST_EVENTS_PER_HOUR", "60"))
WEBHOOK_REPLAYS_PER_HOUR = int(os.environ.get("WEBHOOK_REPLAYS_PER_HOUR", "10000"))
# Events, deliveries and attempts older than this are deleted by a periodic task.
WEBHOOK_RETENTION_DAYS = int(os.environ.get("WEBHOOK_RETENTION_DAYS", "30"))
WEBHOOK_QUICK_ANSWER_MS = int(os.environ.get("WEBHOOK_QUICK_ANSWER_MS", "1000"))
# POSTs one webhooks worker process keeps in flight at once: more than one endpoint's
# cap, so no single endpoint can take every thread.
WEBHOOK_WORKER_THREADS = int(os.environ.get("WEBHOOK_WORKER_THREADS", "100"))

# --- Email ------------------------------------------------------------------
# Django and allauth hand mail to a backend that queues a Celery task after commit;
# the task sends it with PORTAL_EMAIL_DELIVERY_BACKEND.
EMAIL_BACKEND = "accounts.mail.CeleryEmailBackend"
PORTAL_EMAIL_DELIVERY_BACKEND = os.environ.get(
    "EMAIL_DELIVERY_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / ".data" / "media"))

# --- Security ---------------------------------------------------------------
CONTENT_SECURITY_POLICY = PAGE_POLICY  # machine endpoints send their own (keys.gateway)
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz)$"]  # probes speak plain HTTP
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Operations -------------------------------------------------------------
# /metrics answers a scraper presenting this Bearer token; unset, metrics are off (404).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# --- Misc -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Each line names its request (portal/logs.py); LOG_FORMAT=json: one JSON object a line.
LOGGING = logging_config(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "INFO"))

# The development secrets are published in this repository: outside development, or
# with DEBUG off (anything serving real traffic), the portal refuses to start with one.
_development_secrets = development_secrets_in(globals())
if (PORTAL_ENV != "development" or not DEBUG) and _development_secrets:
    raise ImproperlyConfigured(refusal(_development_secrets))
