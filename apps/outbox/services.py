"""Writing effects into the outbox and delivering them, at least once (SPEC §7, STYLE rule 13).

Writing: ``outbox_put_many`` inserts the rows inside the caller's transaction
and, once that commits, asks a Celery worker to deliver them. That request is
only a head start: when the broker is down it is logged and dropped, the
request that caused the effect still succeeds, and the periodic
``outbox_deliver_due`` (a beat job) sends the rows anyway.

Delivering: each attempt claims one row with a conditional UPDATE that also
sets a lease. Only one worker wins a claim; a worker that dies mid-send
leaves a row whose lease runs out, and then any delivery run claims it
again. A failed attempt is retried with exponential backoff, up to
``OUTBOX_MAX_ATTEMPTS``; then the row is ``failed``, visible in the admin,
which can send it again. An effect goes out twice only when a worker dies
between sending and recording that it sent.

A kind may bring its own retry policy (webhooks retry for about a day) and a
hook called when a row fails for good. Rows with the same ``sequence_key`` go
out one at a time, oldest first: a row is not claimed while an earlier one of
its sequence is still open, and when one is done the next is kicked.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from apps.outbox.models import OPEN_STATUSES, OutboxMessage, OutboxStatus
from leadflow.bulk_insert import bulk_insert, rows_insert

logger = logging.getLogger(__name__)

#: How many rows one Celery task delivers: small, so a burst spreads over every worker.
KICK_CHUNK = 10

Handler = Callable[[OutboxMessage], None]
_HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class RetryPolicy:
    """How often a kind is attempted and how long it waits between failures."""

    max_attempts: int
    base_seconds: int
    max_seconds: int


def default_policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
        base_seconds=settings.OUTBOX_RETRY_BASE_SECONDS,
        max_seconds=settings.OUTBOX_RETRY_MAX_SECONDS,
    )


# Policies are read when used (functions of the settings), so a test's settings apply.
_POLICIES: dict[str, Callable[[], RetryPolicy]] = {}
_GIVE_UP: dict[str, Callable[[OutboxMessage], None]] = {}


class NothingToDeliver(Exception):
    """Raised by a handler when the effect has become moot (e.g. the recipient has no address).

    The row is marked ``skipped`` with the message, never retried.
    """


def outbox_handler(
    kind: str,
    *,
    policy: Callable[[], RetryPolicy] | None = None,
    on_give_up: Callable[[OutboxMessage], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Register the function that delivers rows of ``kind``; it raises when the attempt failed.

    The app that owns the effect registers it (imported from its ``AppConfig.ready``),
    so the outbox never imports the apps that use it. ``policy`` (default: the
    ``OUTBOX_*`` settings) returns the kind's retry policy; ``on_give_up`` is called
    with a row once it has failed for good (its errors are logged, never raised).
    """

    def register(handler: Handler) -> Handler:
        _HANDLERS[kind] = handler
        if policy is not None:
            _POLICIES[kind] = policy
        if on_give_up is not None:
            _GIVE_UP[kind] = on_give_up
        return handler

    return register


# --- writing -------------------------------------------------------------------------------


def outbox_put_many(*, messages: Sequence[OutboxMessage], kick: bool = True) -> list[OutboxMessage]:
    """Insert ``messages`` (unsaved rows with kind, key and payload) in the caller's transaction.

    With ``kick`` a worker is asked to deliver them once the transaction commits
    (the periodic delivery sends them anyway). Returns the saved rows.
    """
    if not messages:
        return []
    now = timezone.now()
    for message in messages:
        message.next_attempt_at = now
    saved = bulk_insert(messages)
    if kick:
        transaction.on_commit(partial(outbox_kick, [m.pk for m in saved]))
    return saved


def outbox_rows_put(*, kind: str, rows: Sequence[tuple[str, dict]], kick: bool = True) -> list[int]:
    """``outbox_put_many`` for many rows of one kind given as (key, payload): no model each.

    The rows written are the same (pending, due now); returns their ids, in order.
    """
    if not rows:
        return []
    now = timezone.now()
    ids = [
        pk
        for (pk,) in rows_insert(
            OutboxMessage,
            ["key", "payload"],
            rows,
            fixed={
                "kind": kind,
                "sequence_key": "",
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "lease_expires_at": None,
                "claim": None,
                "last_error": "",
                "created_at": now,
                "sent_at": None,
            },
        )
    ]
    if kick:
        transaction.on_commit(partial(outbox_kick, ids))
    return ids


def outbox_put(*, kind: str, key: str, payload: dict, kick: bool = True) -> OutboxMessage:
    """One row; see ``outbox_put_many``."""
    return outbox_put_many(
        messages=[OutboxMessage(kind=kind, key=key, payload=payload)], kick=kick
    )[0]


#: After a failed publish, kicks are skipped until this moment (time.monotonic()): one slow
#: failure tells this process the broker is away; the periodic delivery covers the gap.
_broker_away_until = 0.0
BROKER_AWAY_SECONDS = 15


def outbox_kick(ids: Sequence[int]) -> None:
    """Ask the workers to deliver ``ids`` now; a broker that does not answer only delays them.

    Never raises: it runs after the commit of a request whose work is done, and
    an error here would turn that success into a 500.
    """
    global _broker_away_until
    from apps.outbox.tasks import outbox_deliver_task

    if time.monotonic() < _broker_away_until:
        logger.info("outbox: broker away, %s left to the periodic delivery", list(ids))
        return
    for start in range(0, len(ids), KICK_CHUNK):
        chunk = list(ids[start : start + KICK_CHUNK])
        try:
            # No publish retries: a request must not wait on a broker that is down.
            outbox_deliver_task.apply_async((chunk,), retry=False)
        except Exception as exc:
            _broker_away_until = time.monotonic() + BROKER_AWAY_SECONDS
            logger.warning(
                "outbox: could not queue delivery of %s (%s); the periodic delivery sends them",
                list(ids[start:]),
                exc,
            )
            return


# --- delivering ----------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    not_claimed: int = 0


def outbox_deliver(*, ids: Iterable[int]) -> DeliveryResult:
    """Deliver each row of ``ids`` that is due and not claimed by another worker."""
    result = DeliveryResult()
    for pk in ids:
        _deliver_one(pk, result)
    return result


def outbox_deliver_due(*, kinds: Sequence[str] | None = None, limit: int = 200) -> DeliveryResult:
    """Deliver up to ``limit`` rows that are due: new, to retry, or claimed by a worker that died.

    Rows are taken oldest due first. Runs safely many times at once: each row
    is delivered by whichever run claims it.
    """
    now = timezone.now()
    due = OutboxMessage.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
    if kinds is not None:
        due = due.filter(kind__in=kinds)
    # A row whose every attempt was claimed by a worker that died: give up on it visibly.
    abandoned = list(
        due.filter(status=OutboxStatus.SENDING)
        .exclude(_under_attempt_limit())
        .values_list("pk", flat=True)
    )
    if abandoned:
        OutboxMessage.objects.filter(pk__in=abandoned, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.FAILED,
            claim=None,
            lease_expires_at=None,
            last_error="The last attempt never finished (its worker stopped mid-send).",
        )
        logger.error("outbox: %s message(s) failed for good: their workers died", len(abandoned))
        for message in OutboxMessage.objects.filter(pk__in=abandoned):
            _gave_up(message)
    # A row waiting behind an earlier one of its sequence is not due yet: picking it would
    # only crowd out rows that can go.
    ids = list(
        due.filter(_first_open_in_sequence())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return outbox_deliver(ids=ids)


def outbox_resend(*, ids: Iterable[int]) -> int:
    """Put failed or skipped rows back in the queue for a fresh round of attempts; returns how many.

    The row keeps its idempotency key: a receiver that did get an earlier copy can tell.
    """
    with transaction.atomic():
        resend = list(
            OutboxMessage.objects.filter(
                pk__in=list(ids), status__in=[OutboxStatus.FAILED, OutboxStatus.SKIPPED]
            ).values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=resend).update(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            lease_expires_at=None,
            claim=None,
        )
        if resend:
            transaction.on_commit(partial(outbox_kick, resend))
    return len(resend)


def _deliver_one(pk: int, result: DeliveryResult) -> None:
    now = timezone.now()
    token = uuid.uuid4()
    lease_ends = now + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    claimed = OutboxMessage.objects.filter(
        Q(pk=pk),
        _under_attempt_limit(),
        _first_open_in_sequence(),
        status__in=OPEN_STATUSES,
        next_attempt_at__lte=now,
    ).update(
        status=OutboxStatus.SENDING,
        claim=token,
        attempts=F("attempts") + 1,
        lease_expires_at=lease_ends,
        next_attempt_at=lease_ends,
    )
    if not claimed:
        result.not_claimed += 1
        return
    message = OutboxMessage.objects.get(pk=pk)
    # Every outcome releases the claim; a worker whose lease ran out (another took the row
    # over) matches nothing here and leaves the newer claim alone.
    release = partial(
        OutboxMessage.objects.filter(pk=pk, claim=token).update, claim=None, lease_expires_at=None
    )
    policy = _policy(message.kind)
    try:
        handler = _HANDLERS.get(message.kind)
        if handler is None:
            raise LookupError(f"no outbox handler for kind '{message.kind}'")
        handler(message)
    except NothingToDeliver as exc:
        release(status=OutboxStatus.SKIPPED, last_error=str(exc))
        result.skipped += 1
        logger.info("outbox: %s skipped: %s", message, exc)
        _kick_next_in_sequence(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= policy.max_attempts:
            release(status=OutboxStatus.FAILED, last_error=error)
            result.failed += 1
            logger.error(
                "outbox: %s failed after %s attempts: %s", message, message.attempts, error
            )
            _gave_up(message)
            _kick_next_in_sequence(message)
        else:
            retry_at = timezone.now() + retry_delay(message.attempts, policy=policy)
            release(status=OutboxStatus.PENDING, next_attempt_at=retry_at, last_error=error)
            result.retrying += 1
            logger.warning("outbox: %s attempt %s failed: %s", message, message.attempts, error)
    else:
        release(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
        result.sent += 1
        _kick_next_in_sequence(message)


def retry_delay(attempts: int, *, policy: RetryPolicy | None = None) -> dt.timedelta:
    """Exponential backoff: the base delay after the first failure, doubling, capped."""
    policy = policy or default_policy()
    seconds = policy.base_seconds * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, policy.max_seconds))


def _policy(kind: str) -> RetryPolicy:
    policy = _POLICIES.get(kind)
    return policy() if policy is not None else default_policy()


def _under_attempt_limit() -> Q:
    """Rows that still have an attempt left under their kind's policy."""
    special = {kind: policy().max_attempts for kind, policy in _POLICIES.items()}
    condition = Q(attempts__lt=default_policy().max_attempts) & ~Q(kind__in=list(special))
    for kind, max_attempts in special.items():
        condition |= Q(kind=kind, attempts__lt=max_attempts)
    return condition


def _first_open_in_sequence() -> Q:
    """Rows outside any sequence, or the oldest open row of theirs."""
    earlier_open = OutboxMessage.objects.filter(
        sequence_key=OuterRef("sequence_key"), status__in=OPEN_STATUSES, pk__lt=OuterRef("pk")
    )
    return Q(sequence_key="") | ~Exists(earlier_open)


def _kick_next_in_sequence(message: OutboxMessage) -> None:
    """The row done, the next of its sequence may go (it was not claimed while this one was open)."""
    if not message.sequence_key:
        return
    following = (
        OutboxMessage.objects.filter(
            sequence_key=message.sequence_key, status__in=OPEN_STATUSES, pk__gt=message.pk
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        outbox_kick([following])


def _gave_up(message: OutboxMessage) -> None:
    hook = _GIVE_UP.get(message.kind)
    if hook is None:
        return
    try:
        hook(message)
    except Exception:
        logger.exception("outbox: the give-up hook of %s failed", message)


# --- email ---------------------------------------------------------------------------------


def outbox_message_id(message: OutboxMessage) -> str:
    """The ``Message-ID`` of the email a row sends: the same on every attempt, unique per row."""
    return f"<leadflow.outbox.{message.pk}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>"


def outbox_email_send(message: OutboxMessage, email: EmailMessage) -> None:
    """Send ``email`` for ``message`` with its stable ``Message-ID`` (the receiver's idempotency key)."""
    email.extra_headers["Message-ID"] = outbox_message_id(message)
    email.send()
