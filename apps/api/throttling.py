"""The per-token rate limit of the API (SPEC §7: 600 requests a minute, settable).

Fixed one-minute windows. Each request increments its client's counter for the
current minute in one atomic step, so a burst of concurrent requests cannot
slip past the limit: exactly ``limit`` of them get through. The counters live in
Redis when ``RATE_LIMIT_REDIS_URL`` is set (or the Celery broker is Redis) and in
the ``RateLimitWindow`` table otherwise (the embedded default).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle

from apps.api.models import RateLimitWindow

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60

# INCR and EXPIRE in one script: Redis runs a script atomically, so no counter is
# ever left without its expiry and no two clients read the same count.
_INCREMENT_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return hits
"""


class CounterUnavailable(Exception):
    """The counter store did not answer."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    retry_after: int


def _window(now: float) -> tuple[int, int]:
    """(the current minute since the epoch, whole seconds until the next one starts)."""
    minute = int(now // WINDOW_SECONDS)
    return minute, max(1, math.ceil((minute + 1) * WINDOW_SECONDS - now))


class DatabaseCounter:
    """Counters in ``RateLimitWindow``: one upsert per request."""

    def increment(self, key: str, minute: int) -> int:
        table = connection.ops.quote_name(RateLimitWindow._meta.db_table)
        key_col, minute_col, hits_col = (
            connection.ops.quote_name(RateLimitWindow._meta.get_field(name).column)
            for name in ("key", "minute", "hits")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_col}, {minute_col}, {hits_col}) VALUES (%s, %s, 1) "
                f"ON CONFLICT ({key_col}, {minute_col}) DO UPDATE SET {hits_col} = {table}.{hits_col} + 1 "
                f"RETURNING {hits_col}",
                [key, minute],
            )
            hits = cursor.fetchone()[0]
            if hits == 1:
                # The client's first request this minute: its older windows are spent.
                cursor.execute(
                    f"DELETE FROM {table} WHERE {key_col} = %s AND {minute_col} < %s", [key, minute]
                )
        return hits


class RedisCounter:
    """Counters in Redis, one key per client and minute, expiring after the minute."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_INCREMENT_SCRIPT)

    def increment(self, key: str, minute: int) -> int:
        import redis

        try:
            return int(self.script(keys=[f"{key}:{minute}"], args=[WINDOW_SECONDS * 2]))
        except redis.exceptions.RedisError as exc:
            raise CounterUnavailable(f"Redis: {exc}") from exc


@lru_cache(maxsize=4)
def _redis_counter(url: str) -> RedisCounter:
    return RedisCounter(url)


def rate_limit_counter() -> DatabaseCounter | RedisCounter:
    url = settings.RATE_LIMIT_REDIS_URL
    return _redis_counter(url) if url else DatabaseCounter()


def rate_limit_hit(client: str, *, limit: int, now: float | None = None, counter=None) -> Verdict:
    """Count one request of ``client`` and say whether it is within ``limit`` this minute."""
    minute, retry_after = _window(time.time() if now is None else now)
    counter = counter or rate_limit_counter()
    hits = counter.increment(f"{settings.RATE_LIMIT_KEY_PREFIX}:{client}", minute)
    return Verdict(allowed=hits <= limit, hits=hits, retry_after=retry_after)


class TokenRateThrottle(BaseThrottle):
    """DRF throttle: ``LEADFLOW_API_RATE_PER_MINUTE`` requests a minute per token.

    A token belongs to one user (DRF's authtoken), so the counter is keyed by
    the user: the same budget whether the user calls with the token or, from the
    browsable docs, with a session. Anonymous requests are refused with 401
    before any throttle runs.
    """

    def allow_request(self, request, view) -> bool:
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated):
            return True
        limit = settings.LEADFLOW_API_RATE_PER_MINUTE
        try:
            verdict = rate_limit_hit(f"user:{user.pk}", limit=limit)
        except CounterUnavailable as exc:
            # Serve rather than refuse every client while Redis is away; the log says so.
            logger.warning("API rate limit not enforced: %s", exc)
            return True
        self._retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self) -> int:
        return self._retry_after
