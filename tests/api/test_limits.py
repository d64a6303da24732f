"""The API's limits: 413 for oversize bodies, 429 with Retry-After past the per-token rate."""

import datetime as dt
import io
import json

import pytest
import time_machine

from apps.api.models import RateLimitWindow
from apps.api.throttling import RedisCounter, rate_limit_hit
from apps.leads.models import Engagement, Lead
from tests.api.conftest import client_for
from tests.factories import LeadFactory, UserFactory
from tests.threads import burst

LEADS = "/api/v1/leads/"
ENGAGEMENTS = "/api/v1/engagements/"
A_MINUTE_AND_A_HALF = dt.datetime(2026, 5, 11, 9, 0, 30, tzinfo=dt.UTC)


# --- 413 ------------------------------------------------------------------------------


def padded_engagements(lead, *, pad):
    """A batch of 1000 page views of ``lead``, each carrying ``pad`` bytes of metadata."""
    return [
        {
            "lead_id": lead.pk,
            "kind": "page_view",
            "occurred_at": "2026-01-01T00:00:00Z",
            "metadata": {"pad": "x" * pad},
        }
        for _ in range(1000)
    ]


@pytest.mark.django_db
def test_a_body_over_the_limit_gets_413_before_it_is_read(api, marketer, settings):
    settings.LEADFLOW_API_MAX_BODY_BYTES = 1000
    body = {"email": "ken@example.com", "source": "website", "company": "x" * 2000}

    response = api(marketer).post(LEADS, body, format="json")

    assert response.status_code == 413
    assert (
        response.json()["detail"]
        == "The request body is 2.0 KiB; the API accepts at most 1000 bytes."
    )
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_body_over_5_mib_gets_413_by_default(api, marketer):
    items = padded_engagements(LeadFactory(), pad=6000)

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 413
    assert "the API accepts at most 5.0 MiB" in response.json()["detail"]
    assert not Engagement.objects.exists()


@pytest.mark.django_db
def test_a_body_of_4_mib_is_accepted(api, marketer):
    items = padded_engagements(LeadFactory(), pad=4500)
    assert 4 * 1024 * 1024 < len(json.dumps(items)) < 5 * 1024 * 1024

    response = api(marketer).post(ENGAGEMENTS, items, format="json")

    assert response.status_code == 201
    assert Engagement.objects.count() == 1000


def _chunked_post(client, path, body: bytes):
    """POST ``body`` as a server hands on a chunked request: no Content-Length, input terminated."""
    return client.generic(
        "POST",
        path,
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_gets_413(api, marketer, settings):
    settings.LEADFLOW_API_MAX_BODY_BYTES = 1000
    body = json.dumps(
        {"email": "ken@example.com", "source": "website", "company": "x" * 2000}
    ).encode()

    response = _chunked_post(api(marketer), LEADS, body)

    assert response.status_code == 413
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_chunked_body_within_the_limit_is_read_whole(api, marketer):
    body = json.dumps({"email": "ken@example.com", "source": "website", "company": "Kumo"}).encode()

    response = _chunked_post(api(marketer), LEADS, body)

    assert response.status_code == 201
    assert Lead.objects.get().company == "Kumo"


@pytest.mark.django_db
def test_a_chunked_body_the_server_cannot_decode_gets_411(api, marketer):
    response = api(marketer).generic(
        "POST",
        LEADS,
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(b"1a\r\n{...")},
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]


# --- 429 ------------------------------------------------------------------------------


def past_the_rate(client, rate, settings):
    """With ``rate`` requests a minute allowed, ``rate + 1`` GETs then one more, all in one minute.

    Returns the statuses of the first ``rate + 1`` and the last response.
    """
    settings.LEADFLOW_API_RATE_PER_MINUTE = rate
    with time_machine.travel(A_MINUTE_AND_A_HALF, tick=False):
        statuses = [client.get(LEADS).status_code for _ in range(rate + 1)]
        return statuses, client.get(LEADS)


@pytest.mark.django_db
def test_past_the_rate_a_token_gets_429_with_retry_after_until_the_next_minute(
    api, marketer, manager, settings
):
    client = api(marketer)
    statuses, refused = past_the_rate(client, 3, settings)
    with time_machine.travel(A_MINUTE_AND_A_HALF, tick=False):
        other_token = api(manager).get(LEADS)

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"
    assert refused.json()["detail"] == "Rate limit exceeded: retry in 30 seconds."  # said once
    assert other_token.status_code == 200

    with time_machine.travel(A_MINUTE_AND_A_HALF + dt.timedelta(seconds=30), tick=False):
        assert client.get(LEADS).status_code == 200


@pytest.mark.django_db
def test_the_database_keeps_only_each_clients_current_minute():
    minute = 1_800_000_000.0
    for offset in (0, 1, 61, 62, 125):
        rate_limit_hit("tidy", limit=5, now=minute + offset)
    rate_limit_hit("other", limit=5, now=minute)

    rows = sorted(RateLimitWindow.objects.values_list("key", "hits"))
    assert [(key.rsplit(":", 1)[-1], hits) for key, hits in rows] == [("other", 1), ("tidy", 1)]


@pytest.fixture
def redis_rate_limit(settings, redis_url):
    """The rate-limit counters in Redis (DB 15), under a key prefix of this test's own."""
    import redis

    settings.RATE_LIMIT_REDIS_URL = redis_url
    yield redis.Redis.from_url(redis_url)
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{settings.RATE_LIMIT_KEY_PREFIX}:*"):
        client.delete(key)


@pytest.mark.redis
@pytest.mark.django_db
def test_with_redis_the_rate_is_counted_there_and_429_says_when_to_retry(
    api, marketer, settings, redis_rate_limit
):
    client = api(marketer)
    statuses, refused = past_the_rate(client, 2, settings)

    assert statuses == [200, 200, 429]
    assert refused["Retry-After"] == "30"
    keys = list(redis_rate_limit.scan_iter(f"{settings.RATE_LIMIT_KEY_PREFIX}:*"))
    assert len(keys) == 1
    assert int(redis_rate_limit.get(keys[0])) == 4
    assert 0 < redis_rate_limit.ttl(keys[0]) <= 120


@pytest.mark.django_db
def test_when_redis_is_down_the_api_keeps_serving(api, marketer, settings, caplog):
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/15"
    settings.LEADFLOW_API_RATE_PER_MINUTE = 1

    statuses = [api(marketer).get(LEADS).status_code for _ in range(2)]

    assert statuses == [200, 200]
    assert "rate limit not enforced" in caplog.text


@pytest.mark.redis
def test_a_concurrent_burst_gets_exactly_the_limit_through_redis(settings, redis_rate_limit):
    counter = RedisCounter(settings.RATE_LIMIT_REDIS_URL)
    verdicts = burst(
        lambda: rate_limit_hit("burst", limit=20, now=1_800_000_030.0, counter=counter), 60
    )
    assert sum(v.allowed for v in verdicts) == 20
    assert sorted(v.hits for v in verdicts) == list(range(1, 61))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_concurrent_burst_gets_exactly_the_limit_through_the_database(settings):
    verdicts = burst(lambda: rate_limit_hit("burst", limit=20, now=1_800_000_030.0), 60)
    assert sum(v.allowed for v in verdicts) == 20
    assert sorted(v.hits for v in verdicts) == list(range(1, 61))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_concurrent_burst_of_api_calls_lets_exactly_the_limit_through(settings):
    settings.LEADFLOW_API_RATE_PER_MINUTE = 10
    marketer = UserFactory(username="maya", roles=["marketing"])
    client_for(marketer)  # make the token before the burst

    with time_machine.travel(A_MINUTE_AND_A_HALF, tick=False):
        statuses = burst(lambda: client_for(marketer).get(LEADS).status_code, 30)

    assert sorted(statuses) == [200] * 10 + [429] * 20
