"""
Settings for the seminar site, read from the environment (and an optional
`.env` file in the project root) through django-environ.

With no environment at all the site runs for development: DEBUG on, SQLite
under var/, a generated secret kept in var/, emails written as .eml files to
var/mail/. Production is switched on with DEBUG=false, which then requires
SECRET_KEY, ALLOWED_HOSTS and SITE_URL. See README.md for the full table.
"""

import datetime
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Files the site writes: the default SQLite database, the development secret and mail.
VAR_DIR = Path(env.str("DATA_DIR", default="") or BASE_DIR / "var")

DEBUG = env.bool("DEBUG", default=True)


def _development_secret_key() -> str:
    # Kept on disk so sessions and signed links survive a restart of `make run`.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
    SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
else:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL") if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so these environment variables are required: {', '.join(missing)}. "
            "See the configuration table in README.md."
        )
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    SITE_URL = env.str("SITE_URL")

SITE_URL = SITE_URL.rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Seminars")
# Old keys still accepted for signatures (sessions, self-service links) while
# SECRET_KEY is rotated: put the previous key here, remove it a few weeks later.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Where the admin lives, e.g. "staff/" (a path people cannot guess sees fewer login attempts).
ADMIN_PATH = env.str("ADMIN_PATH", default="admin/").strip("/") + "/"

INSTALLED_APPS = [
    # Django's admin, with the dashboard as its home page (dashboard/sites.py).
    "dashboard.apps.SiteAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Full-text search of the archive (on PostgreSQL; nothing happens on SQLite).
    "django.contrib.postgres",
    "django_tasks_db",
    "anymail",
    "seminar_site",
    "events",
    "dashboard",
    "outbox",
    "registrations",
    "listings",
    "reports",
    "checkin",
    "mailings",
    "followers",
    "speaker_edits",
    "monitoring",
    "doorscreen",
    "posters",
    "terms",
    "materials",
    "feedback",
    # Staff sign-in: the identity providers, second factors, invitations and the audit log.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "staff",
]

MIDDLEWARE = [
    # First: the load balancer's probe skips host checks, redirects, sessions and logging.
    "seminar_site.health.HealthCheckMiddleware",
    # Next: counts and times every other request; answers Prometheus' scrapes of /metrics.
    "monitoring.middleware.MetricsMiddleware",
    "seminar_site.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # SECURE_CSP below, and per-view overrides (the embeddable listing's frame-ancestors).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the page cache's middleware: a page it answers gets the header too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the page's language comes from the
    # switcher's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A cached public page this worker knows is current is answered here: it needs
    # the language and the CSRF cookie read above, and nothing below (pagecache/middleware.py).
    "seminar_site.pagecache.middleware.PageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff sessions: signed out everywhere, idle too long, a second factor to enrol, door staff at the door.
    "staff.middleware.StaffSessionMiddleware",
    # Whoever changes what a cached page shows sees it on their next page.
    "seminar_site.pagecache.middleware.FenceMiddleware",
]

ROOT_URLCONF = "seminar_site.urls"
WSGI_APPLICATION = "seminar_site.wsgi.application"

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
                "django.template.context_processors.csp",
                "seminar_site.context_processors.site",
            ],
        },
    },
]


def _default_database_url() -> str:
    # The default SQLite file lives in var/, which a fresh checkout does not have.
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"No DATABASE_URL is set and the default SQLite database cannot be created in {VAR_DIR} ({error}). "
            "Set DATABASE_URL (e.g. postgres://user:password@host:5432/seminars), or DATA_DIR to a writable "
            "directory."
        ) from None
    return f"sqlite:///{VAR_DIR / 'db.sqlite3'}"


DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or _default_database_url()),
}
_POOLED = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_POOL", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer makes /healthz say so within seconds instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # The hot paths' statements (seminar_site/statements.py) are prepared on the server once per
    # connection: parsed and planned once, not on every sign-up. Django's own cursors never prepare.
    # On by default where connections are kept (a pool, or CONN_MAX_AGE above 0): a statement
    # prepared on a connection that is closed after one request costs a round trip and saves nothing.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=_POOLED or env.int("CONN_MAX_AGE", default=60) > 0):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes write at once (gunicorn workers, the email worker). A
    # transaction takes the write lock when it begins, so a second writer
    # waits for it (up to `timeout` seconds) instead of failing with "database
    # is locked" halfway through; in WAL mode readers go on while one writes,
    # and a commit is safe from a crash of the site without waiting for the
    # disk (synchronous=NORMAL: a power cut may lose the last commits, whole).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
if _POOLED:
    DATABASES["default"]["OPTIONS"]["pool"] = True
else:
    # Opening a connection costs more than most of our queries: each worker
    # keeps its own for a minute, checked before its first use by a request.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The site's languages: pages follow the switcher's cookie, else the browser's
# Accept-Language; emails to a registrant use the language they registered in.
# Catalogues live in locale/ (`make messages` updates and compiles them).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice, kept a year; readable only by the server.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Uploaded materials (PDF slides and papers): a directory under DATA_DIR unless
# MATERIALS_STORAGE names another Django storage (S3 through django-storages,
# configured by MATERIALS_STORAGE_OPTIONS as JSON). Served only by the site's own view.
MATERIALS_STORAGE = env.str("MATERIALS_STORAGE", default="django.core.files.storage.FileSystemStorage")
_materials_options = env.json("MATERIALS_STORAGE_OPTIONS", default={})
if MATERIALS_STORAGE == "django.core.files.storage.FileSystemStorage":
    _materials_options.setdefault("location", str(VAR_DIR / "materials"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "materials": {"BACKEND": MATERIALS_STORAGE, "OPTIONS": _materials_options},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email. Messages leave through the "default" mailer; anymail picks the provider.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Seminars <seminars@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
MAIL_BACKEND = env.str("MAIL_BACKEND", default="seminar_site.mail.EmlFileBackend")
MAILERS = {
    "default": {
        "BACKEND": MAIL_BACKEND,
        "OPTIONS": {"file_path": env.path("MAIL_FILE_PATH", default=VAR_DIR / "mail")}
        if MAIL_BACKEND == "seminar_site.mail.EmlFileBackend"
        else {},
    },
}
# Provider settings come as ANYMAIL_<NAME> variables, e.g. ANYMAIL_POSTMARK_SERVER_TOKEN
# or ANYMAIL_WEBHOOK_SECRET ("user:password" for the tracking webhook).
ANYMAIL = {key.removeprefix("ANYMAIL_"): value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_")}

# Where calendar replies go (invites' ORGANIZER): an address whose mail the
# provider delivers to /anymail/<provider>/inbound/. Empty: the series contact
# is ORGANIZER and replies are not read. See "How invites reach calendars" in README.md.
RSVP_EMAIL = env.str("RSVP_EMAIL", default="")

# Registrations of talks that ended longer ago are anonymized by `manage.py erase_old_registrations`.
REGISTRATION_RETENTION_DAYS = env.int("REGISTRATION_RETENTION_DAYS", default=365)

# Followers (series/<slug>/follow/): how long the link of the confirmation email
# works, and how long the address of someone who stopped following is kept
# before `manage.py erase_old_followers` erases it (also addresses never confirmed).
FOLLOW_LINK_DAYS = env.int("FOLLOW_LINK_DAYS", default=7)
FOLLOWER_RETENTION_DAYS = env.int("FOLLOWER_RETENTION_DAYS", default=30)
# Speakers editing their own talk (speaker_edits): how long a link lives unless
# the organizer picks another deadline, and what an uploaded photo may be.
SPEAKER_EDIT_LINK_DAYS = env.int("SPEAKER_EDIT_LINK_DAYS", default=14)
SPEAKER_PHOTO_MAX_BYTES = env.int("SPEAKER_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
SPEAKER_PHOTO_MAX_PIXELS = env.int("SPEAKER_PHOTO_MAX_PIXELS", default=40_000_000)
SPEAKER_PHOTO_MAX_SIDE = env.int("SPEAKER_PHOTO_MAX_SIDE", default=800)

# The screen by the door (doorscreen): how often an open screen asks for news, in seconds.
DOOR_SCREEN_REFRESH_SECONDS = env.int("DOOR_SCREEN_REFRESH_SECONDS", default=30)

# Posters (posters): the paper size offered first, "letter" or "a4".
POSTER_PAPER = env.str("POSTER_PAPER", default="letter")
# Materials of a talk: the largest PDF anyone may upload.
MATERIALS_MAX_BYTES = env.int("MATERIALS_MAX_BYTES", default=50 * 1024 * 1024)
# Feedback: hours after a talk's end at which everyone who attended is asked to rate it.
FEEDBACK_AFTER = datetime.timedelta(hours=env.float("FEEDBACK_AFTER", default=2))

TASKS = {
    "default": {"BACKEND": env.str("TASKS_BACKEND", default="seminar_site.tasks.DatabaseBackend")},
}

# Held seats (registrations/hold_rules.py): a sign-up keeps its seat once its person presses the
# button in our email, within SEAT_HOLD_MINUTES, when its client address made more than
# HOLD_AFTER sign-ups for the talk this hour ("off": never), when the talk is in demand
# (HOLD_DEMAND: more than that share of its places taken within that time, or "off"), or when
# the organizers ask it. A seat freed less than OFFER_BEFORE_HOURS before the start is offered
# to the next person waiting, for OFFER_MINUTES (never past the start).
SEAT_HOLD_MINUTES = env.float("SEAT_HOLD_MINUTES", default=30)
HOLD_AFTER = env.str("HOLD_AFTER", default="10")
HOLD_DEMAND = env.str("HOLD_DEMAND", default="50%/10m")
OFFER_BEFORE_HOURS = env.float("OFFER_BEFORE_HOURS", default=24)
OFFER_MINUTES = env.float("OFFER_MINUTES", default=120)

# How long before a talk the reminder email goes out (REMINDER_BEFORE in hours).
REMINDER_BEFORE = datetime.timedelta(hours=env.float("REMINDER_BEFORE", default=24))

# Shared cache: rate-limit counters live here, so every worker on every host
# must see the same store. The database by default (its table is created by
# `migrate`), Redis when CACHE_URL is set, e.g. redis://cache.example.edu:6379/0.
# A per-process cache (local memory, dummy) is refused when DEBUG is off.
CACHES = {
    "default": env.cache_url("CACHE_URL")
    if env.str("CACHE_URL", default="")
    else {
        "BACKEND": "seminar_site.cache.DatabaseCache",
        "LOCATION": "django_cache",
        # Past MAX_ENTRIES the cache deletes its expired rows, then a third of
        # the rest, live counters included. Well above the counters of one hour,
        # and small enough that the row count it takes on every write stays cheap.
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}
CACHES["default"].setdefault("KEY_PREFIX", env.str("CACHE_KEY_PREFIX", default="seminars"))
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "seminar_site.cache.RedisCache"  # the same, a client object less per command

# Public pages (talk, home, past talks) are kept rendered in that shared cache
# and in each worker's memory, and dropped the moment anything they show
# changes (seminar_site/pagecache/). Workers hear of changes through
# PAGE_CACHE_CHANNEL ("auto": Redis pub/sub with a Redis cache, else PostgreSQL
# LISTEN/NOTIFY, else a stamp file on one host; "off": ask the cache on every
# request); everyone sees a change within PAGE_CACHE_LAG seconds, its writer at
# once. PAGE_CACHE_TIMEOUT (seconds) only bounds how long a page could lag
# should an invalidation be lost while the cache is unreachable.
PAGE_CACHE = env.bool("PAGE_CACHE", default=True)
PAGE_CACHE_TIMEOUT = env.int("PAGE_CACHE_TIMEOUT", default=600)
PAGE_CACHE_CHANNEL = env.str("PAGE_CACHE_CHANNEL", default="auto")
PAGE_CACHE_LAG = env.float("PAGE_CACHE_LAG", default=0.25)

# Rate limits, as "count/period" (s, m, h, d; e.g. "10/h" or "5/15m"), or "off".
# Registrations: per client address per talk. Endpoints that email an address
# typed into a form: per client address per endpoint, and per target address
# across all of them. Failed staff sign-ins: see LOGIN_ACCOUNT_RATE_LIMIT below.
REGISTRATION_RATE_LIMIT = env.str("REGISTRATION_RATE_LIMIT", default="60/h")
EMAIL_RATE_LIMIT = env.str("EMAIL_RATE_LIMIT", default="10/h")
EMAIL_ADDRESS_RATE_LIMIT = env.str("EMAIL_ADDRESS_RATE_LIMIT", default="10/h")
LOGIN_RATE_LIMIT = env.str("LOGIN_RATE_LIMIT", default="10/15m")
# Client networks (CIDR, comma-separated: "10.0.0.0/8,2001:db8::/32") that the per-address
# limits of the public forms leave alone, e.g. a campus behind one NAT. The per-typed-address
# and login limits still apply, and so do holds (below). A system check refuses a bad value.
RATE_LIMIT_EXEMPT_NETWORKS = env.list("RATE_LIMIT_EXEMPT_NETWORKS", default=[])
# How many proxies in front of the site append to X-Forwarded-For (nginx with
# $proxy_add_x_forwarded_for: 1; a load balancer in front of nginx: 2). With 0
# the header is ignored, so nobody can choose the address they are counted under.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Should the shared store be down, requests go through (and the failure is logged).
RATELIMIT_FAIL_OPEN = True

# Staff sign-in (the staff app, on django-allauth; README "Staff sign-in").
# Identity providers as JSON, parsed when used (staff.providers); password
# sign-in on or off (break-glass superusers keep it); the second factor.
SSO_PROVIDERS = env.str("SSO_PROVIDERS", default="")
PASSWORD_LOGIN = env.bool("PASSWORD_LOGIN", default=True)
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=not DEBUG)
BREAK_GLASS_USERS = env.list("BREAK_GLASS_USERS", default=[])
STAFF_IDLE_MINUTES = env.int("STAFF_IDLE_MINUTES", default=60)
STAFF_INVITATION_DAYS = env.int("STAFF_INVITATION_DAYS", default=7)
# Entries of the sign-in and team log older than this are deleted by `manage.py erase_old_sign_in_log`.
SIGN_IN_LOG_RETENTION_DAYS = env.int("SIGN_IN_LOG_RETENTION_DAYS", default=365)
# Password guessing (staff.throttle): LOGIN_RATE_LIMIT counts failures per
# client address, LOGIN_ACCOUNT_RATE_LIMIT per account from one address; an
# account failing from LOGIN_SLOWDOWN_ADDRESSES addresses within an hour is slowed, never locked.
LOGIN_ACCOUNT_RATE_LIMIT = env.str("LOGIN_ACCOUNT_RATE_LIMIT", default="5/15m")
LOGIN_SLOWDOWN_ADDRESSES = env.int("LOGIN_SLOWDOWN_ADDRESSES", default=5)

AUTHENTICATION_BACKENDS = ["staff.backends.StaffBackend"]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
ACCOUNT_ADAPTER = "staff.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "staff.adapters.SocialAccountAdapter"
MFA_ADAPTER = "staff.adapters.MFAAdapter"
# Nobody signs up: accounts come from invitations (staff.services).
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_NOTIFICATIONS = False
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Second-factor codes are limited like passwords: per client address and per account.
ACCOUNT_RATE_LIMITS = {
    "login_failed": ",".join(
        f"{rate}/{per}"
        for rate, per in ((LOGIN_RATE_LIMIT, "ip"), (LOGIN_ACCOUNT_RATE_LIMIT, "key"))
        if rate.strip().lower() != "off"
    )
    or None,
}

# Security: safe by default, relaxed only for local development over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Only marks the site as willing; the preload list itself accepts registrable
# domains only, so on a university subdomain this directive changes nothing.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Self-service links carry their token in the path: "same-origin" sends no
# Referer at all to other sites, so a click on a link in the page never leaks it.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# No inline script or style anywhere: JavaScript and CSS are files in static/.
# Something inline that cannot be avoided carries nonce="{{ csp_nonce }}"; a
# view that needs another policy uses django.views.decorators.csp.csp_override.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Browser features the site never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# One line per event on stdout, each with the request's id; addresses and
# tokens are masked (seminar_site.logs).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "seminar_site.logs.RequestIdFilter"},
        "skip_healthz": {"()": "seminar_site.logs.SkipHealthCheckFilter"},
    },
    "formatters": {"line": {"()": "seminar_site.logs.OneLineFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id", "skip_healthz"],
            "formatter": "line",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Replaces Django's own "django" logger setup, which would print every line twice.
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}

# Metrics for Prometheus at /metrics (monitoring/): readable with the bearer
# token, from the networks listed, or only with both when both are set; with
# neither, the address answers 404 like any unknown page.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])

# Error reports to Sentry when SENTRY_DSN is set, masked like the logs (monitoring/errors.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
