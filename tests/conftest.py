import os

import pytest
from django.conf import settings as django_settings

from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("LEADFLOW_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Tests speak plain HTTP to the test client; production redirects to HTTPS.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Role users are made in nearly every test; real password hashing would take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Nothing a page cached (the dashboard's tables) outlives its test."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts in the site's language, whatever an earlier one activated."""
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _celery_inline():
    """Tasks run inline unless a test starts a real worker (see tests/sla/test_worker.py)."""
    from apps.outbox import services as outbox_services
    from leadflow.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    outbox_services._broker_away_until = 0.0  # a test that stopped the broker is over


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(reason="runs in the PostgreSQL pass (DATABASE_URL=postgres://…)")
            )


@pytest.fixture
def redis_url():
    """A reachable Redis; skipped when absent unless LEADFLOW_REQUIRE_SERVICES=1 makes it a failure."""
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis required but unreachable at {url}: {exc}")
        pytest.skip(f"Redis unreachable at {url}")
    return url


@pytest.fixture
def rep(db):
    return UserFactory(username="rita", roles=["sales"])


@pytest.fixture
def other_rep(db):
    return UserFactory(username="oscar", roles=["sales"])


@pytest.fixture
def marketer(db):
    return UserFactory(username="maya", roles=["marketing"])


@pytest.fixture
def manager(db):
    return UserFactory(username="mona", roles=["sales_manager"])


# The people of the stories the tests tell, by first name (a second rep, Oscar, for round-robin).
TEAM = {
    "maya": ("Maya", "Marsh", "marketing"),
    "mona": ("Mona", "Meyer", "sales_manager"),
    "rita": ("Rita", "Reyes", "sales"),
    "oscar": ("Oscar", "Ortiz", "sales"),
}


@pytest.fixture
def team(db):
    """A user per role with a full name, by username and by role (``rep``, ``marketer``, ``manager``)."""
    people = {
        username: UserFactory(username=username, first_name=first, last_name=last, roles=[group])
        for username, (first, last, group) in TEAM.items()
    }
    by_role = {"marketer": "maya", "manager": "mona", "rep": "rita", "other_rep": "oscar"}
    return {**people, **{role: people[username] for role, username in by_role.items()}}


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_only(db):
    """Staff with no product role: Django admin only."""
    return UserFactory(username="stan", is_staff=True)


@pytest.fixture
def nobody(db):
    return UserFactory(username="nemo")


@pytest.fixture
def live_worker(redis_url):
    """A real Celery worker of four threads consuming a real Redis broker, in this process.

    Tasks sent with ``.delay()`` travel through Redis (the tests' own database)
    and run on their own database connections, four at once.
    """
    import redis
    from celery.contrib.testing.worker import start_worker

    from leadflow.celery import app

    broker = redis.Redis.from_url(redis_url)
    broker.delete("celery")  # the default queue
    saved = {
        k: app.conf[k] for k in ("broker_url", "task_always_eager", "broker_transport_options")
    }
    app.conf.update(
        broker_url=redis_url,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": 3600},
    )
    _forget_broker(app)
    with start_worker(
        app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
    ):
        yield app
    app.conf.update(saved)
    _forget_broker(app)
    broker.delete("celery")


def _forget_broker(app):
    # The connection pool, the producer pool and the routing tables all remember the
    # broker and queues they were first made for.
    app._pool = None
    app.amqp._producer_pool = None
    for cached in ("queues", "router"):
        app.amqp.__dict__.pop(cached, None)
    app.amqp._rtable = None
