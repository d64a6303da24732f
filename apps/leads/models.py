"""Leads, their engagements, BANT qualifications and the append-only stage history.

The lifecycle graph of SPEC §2 lives here as django-fsm transitions: they
check the stage and stamp fields, and do no I/O. ``services.lead_transition``
is the only caller: it locks the row, checks the user (the rule each entry of
``apps.leads.transitions`` declares), saves, writes the ``StageTransition``
row and queues side effects.
"""

import datetime as dt
import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition

from apps.criteria.models import EngagementKind
from apps.criteria.rules import FIT_FAIL, FIT_PASS, FIT_UNKNOWN
from leadflow.fields import optional_link


class Stage(models.TextChoices):
    NEW = "new", _("New")
    MQL = "mql", _("MQL")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    SQL = "sql", _("SQL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    DISQUALIFIED = "disqualified", _("Disqualified")


class Fit(models.TextChoices):
    PASS = FIT_PASS, _("Pass")
    FAIL = FIT_FAIL, _("Fail")
    UNKNOWN = FIT_UNKNOWN, _("Unknown")


# Stages in which a lead has an owner working it; a manager may reassign these.
OWNED_STAGES = [Stage.MQL, Stage.ACCEPTED, Stage.SQL, Stage.OPPORTUNITY]

# The SLA clocks that run in each stage (SPEC §4), the one the lead works against first:
# an MQL must be accepted and its processing clock already runs; an accepted lead has only
# the processing clock left; no other stage has a clock running.
SLA_CLOCKS_BY_STAGE = {Stage.MQL: ("accept", "process"), Stage.ACCEPTED: ("process",)}


@dataclass(frozen=True)
class SLAClock:
    """One running SLA clock of a lead: ``accept`` or ``process``, its reminder and deadline."""

    name: str
    remind_at: dt.datetime | None
    due_at: dt.datetime | None


def running_deadline_fields() -> dict[str, str]:
    """Stage -> the column holding the deadline that stage runs against, for queries."""
    return {stage: f"{names[0]}_due_at" for stage, names in SLA_CLOCKS_BY_STAGE.items()}


def sla_clocks(stage: str, clocks) -> list[SLAClock]:
    """The clocks running in ``stage``, read from the clock fields of ``clocks``.

    ``clocks`` is a ``Lead``, or any row with its ``*_remind_at`` and ``*_due_at``
    attributes (the SLA sweep reads plain rows, not whole leads).
    """
    return [
        SLAClock(name, getattr(clocks, f"{name}_remind_at"), getattr(clocks, f"{name}_due_at"))
        for name in SLA_CLOCKS_BY_STAGE.get(stage, ())
    ]


def next_sla_check(stage: str, clocks, *, after: dt.datetime) -> dt.datetime | None:
    """The first reminder or deadline of the clocks running in ``stage`` still ahead of ``after``."""
    moments = [
        moment
        for clock in sla_clocks(stage, clocks)
        for moment in (clock.remind_at, clock.due_at)
        if moment is not None and moment > after
    ]
    return Lead._next_check(after, moments)


def email_normalize(email: str | None) -> str:
    """The one form of an email address Leadflow stores and matches: trimmed, lower-case."""
    return (email or "").strip().lower()


class NoDeleteQuerySet(models.QuerySet):
    """Nothing the product does deletes a lead, an engagement or a transition."""

    def delete(self):
        raise ValidationError(
            _("%(model)s rows are never deleted.") % {"model": self.model._meta.verbose_name}
        )


@functools.cache
def fsm_fields(model) -> tuple[FSMField, ...]:
    """The ``FSMField``s of ``model``."""
    return tuple(field for field in model._meta.fields if isinstance(field, FSMFieldMixin))


class Lead(ConcurrentTransitionMixin, models.Model):
    email = models.EmailField(
        _("email"), unique=True, help_text=_("Stored lower-case; the key for create-or-update.")
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166 two-letter code.")
    )
    # No index of its own: ``lead_source_created_idx`` (source, created_at) serves every
    # lookup by source, and each index is one more entry every lead rewrite writes.
    source = models.ForeignKey(
        "criteria.LeadSource",
        to_field="code",
        db_column="source",
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("source"),
    )
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)

    # The optional links (owner and the three below) are indexed only where set (``Meta``).
    owner = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="owned_leads",
        verbose_name=_("owner"),
    )
    stage = FSMField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.NEW, protected=True
    )

    score = models.IntegerField(_("score"), default=0)
    engagement_count = models.PositiveIntegerField(_("engagements"), default=0)
    # {kind: count}: kept with the score so the MQL check never rescans history.
    kind_counts = models.JSONField(_("engagements by kind"), default=dict, blank=True)
    fit = models.CharField(_("fit"), max_length=10, choices=Fit.choices, default=Fit.UNKNOWN)
    fit_reason = models.CharField(_("fit reason"), max_length=255, blank=True)

    mql_criteria = optional_link("criteria.MQLCriteria", _("promoted by criteria"), db_index=False)
    recycle_count = models.PositiveIntegerField(_("times recycled"), default=0)
    last_reject_reason = optional_link(
        "criteria.RejectReason",
        _("last reject reason"),
        to_field="code",
        db_column="last_reject_reason",
        db_index=False,
    )
    disqualify_reason = optional_link(
        "criteria.DisqualifyReason",
        _("disqualify reason"),
        to_field="code",
        db_column="disqualify_reason",
        db_index=False,
    )

    # The SLA clocks of the current MQL episode (SPEC §4).
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    process_due_at = models.DateTimeField(_("process by"), null=True, blank=True)
    accept_remind_at = models.DateTimeField(_("accept reminder at"), null=True, blank=True)
    process_remind_at = models.DateTimeField(_("process reminder at"), null=True, blank=True)
    # When the SLA sweep next has something to do for this lead; None: nothing pending.
    # Every write of it (re)schedules the sweep: the database copies it into the sweep's own
    # narrow work queue (``sla.SLACheck``), which the sweep then moves on by itself.
    sla_next_check_at = models.DateTimeField(
        _("next SLA check"), null=True, blank=True, editable=False
    )

    opportunity_amount = models.DecimalField(
        _("opportunity amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    opportunity_currency = models.CharField(_("currency"), max_length=3, blank=True)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=255, blank=True)

    # When the lead last reached each stage.
    mql_at = models.DateTimeField(_("became MQL"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    sql_at = models.DateTimeField(_("became SQL"), null=True, blank=True)
    opportunity_at = models.DateTimeField(_("became opportunity"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    disqualified_at = models.DateTimeField(_("disqualified"), null=True, blank=True)
    recycled_at = models.DateTimeField(_("recycled"), null=True, blank=True)

    archived_at = models.DateTimeField(
        _("archived"),
        null=True,
        blank=True,
        help_text=_("Archived leads are hidden from lists, never deleted."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = NoDeleteQuerySet.as_manager()

    # The profile, the email aside: what intake, imports and the demo write through
    # ``services.lead_upsert``, and what every API answer shows, in this order (``source``
    # is the lead source's code).
    PROFILE_FIELDS = (
        "first_name",
        "last_name",
        "title",
        "phone",
        "company",
        "employees",
        "industry",
        "country",
        "source",
        "campaign",
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_leads", "Can see every lead"),
            ("view_mql_pool", "Can see unassigned MQLs"),
            ("work_own_leads", "Can accept, reject, qualify and close own leads"),
            ("work_all_leads", "Can act as owner on every lead"),
            ("reassign_lead", "Can reassign leads"),
            ("promote_lead", "Can promote a lead to MQL by hand"),
            ("review_rejected_lead", "Can recycle, resubmit and disqualify rejected leads"),
            ("view_reports", "Can see conversion reports"),
        ]
        indexes = [
            # Sales inbox, MQLs by accept deadline: one rep's, the team's and the pool's.
            # Partial, each holding exactly what its page shows, in the order it shows it.
            models.Index(
                fields=["owner", "accept_due_at", "mql_at", "id"],
                name="lead_inbox_idx",
                condition=Q(stage="mql", archived_at__isnull=True),
            ),
            models.Index(
                fields=["accept_due_at", "mql_at", "id"],
                name="lead_team_inbox_idx",
                condition=Q(stage="mql", archived_at__isnull=True, owner__isnull=False),
            ),
            models.Index(
                fields=["accept_due_at", "mql_at", "id"],
                name="lead_pool_idx",
                condition=Q(stage="mql", archived_at__isnull=True, owner__isnull=True),
            ),
            models.Index(fields=["stage", "process_due_at"], name="lead_process_due_idx"),
            # "To qualify": accepted leads by process-by deadline, one rep's and the team's.
            models.Index(
                fields=["owner", "process_due_at", "accepted_at", "id"],
                name="lead_to_qualify_idx",
                condition=Q(stage="accepted", archived_at__isnull=True),
            ),
            # Lists and reports.
            models.Index(fields=["stage", "mql_at"], name="lead_stage_mql_idx"),
            models.Index(fields=["source", "created_at"], name="lead_source_created_idx"),
            # A stage filter, newest first: the list (by creation) and the API (by id). Leads
            # still new are left out: they are most of the table, and found in order anyway.
            models.Index(
                fields=["stage", "created_at", "id"],
                name="lead_stage_created_idx",
                condition=~Q(stage="new") & Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["stage", "id"],
                name="lead_stage_id_idx",
                condition=~Q(stage="new") & Q(archived_at__isnull=True),
            ),
            # The leads still new, newest first: the ones the list walks past in the creation
            # order are the newer leads that moved on, as many as a third of the table.
            models.Index(
                fields=["created_at", "id"],
                name="lead_new_created_idx",
                condition=Q(stage="new", archived_at__isnull=True),
            ),
            # Every stage newest first: a deep page's skipped rows are read from it alone (the
            # keys first, see pagination.CountedPaginator).
            models.Index(
                fields=["created_at", "id"],
                name="lead_created_idx",
                condition=Q(archived_at__isnull=True),
            ),
            # Every stage by score, highest first, and one stage by score.
            models.Index(
                fields=["-score", "-id"],
                name="lead_score_idx",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["stage", "-score", "-id"],
                name="lead_stage_score_idx",
                condition=Q(archived_at__isnull=True),
            ),
            # Review queue: newest rejection first (read backwards), per reason; and the counts
            # per reason under a source or a rep filter, read from the index alone (unfiltered,
            # they are kept: RejectionCount).
            *(
                models.Index(
                    fields=fields,
                    name=name,
                    condition=Q(stage="rejected", archived_at__isnull=True),
                )
                for name, fields in [
                    ("lead_review_idx", ["rejected_at", "id"]),
                    ("lead_review_reason_idx", ["last_reject_reason", "rejected_at", "id"]),
                    ("lead_review_source_idx", ["source", "last_reject_reason"]),
                    ("lead_review_owner_idx", ["owner", "last_reject_reason"]),
                ]
            ),
            # The optional links, only where set: a lookup by one (``= x``, ``IN (…)``) implies
            # it is set, and most leads lack some of them (no entry to write when they are rewritten).
            models.Index(
                fields=["owner"], name="lead_owner_set_idx", condition=Q(owner__isnull=False)
            ),
            models.Index(
                fields=["mql_criteria"],
                name="lead_criteria_set_idx",
                condition=Q(mql_criteria__isnull=False),
            ),
            models.Index(
                fields=["last_reject_reason"],
                name="lead_reject_reason_set_idx",
                condition=Q(last_reject_reason__isnull=False),
            ),
            models.Index(
                fields=["disqualify_reason"],
                name="lead_dq_reason_set_idx",
                condition=Q(disqualify_reason__isnull=False),
            ),
        ]

    def __str__(self):
        name = self.full_name
        return f"{name} <{self.email}>" if name else self.email

    def save(self, *args, **kwargs):
        self.email = email_normalize(self.email)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Leads are never deleted; archive the lead instead."))

    @property
    def state_fields(self):
        """The FSM fields django-fsm guards on save (``stage``), found once for the model.

        Its own property sifts every field of the model each time a lead is made: a list
        page makes 70 of them.
        """
        return fsm_fields(type(self))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    # --- SLA clocks (SPEC §4) ---------------------------------------------------

    def sla_clocks(self) -> list[SLAClock]:
        """The clocks running in the lead's stage, the one it works against first."""
        return sla_clocks(self.stage, self)

    @property
    def running_deadline(self) -> dt.datetime | None:
        """The deadline the lead works against now: accept by (MQL), process by (accepted)."""
        clocks = self.sla_clocks()
        return clocks[0].due_at if clocks else None

    def next_sla_check(self, *, after: dt.datetime) -> dt.datetime | None:
        """The first reminder or deadline of the running clocks still ahead of ``after``."""
        return next_sla_check(self.stage, self, after=after)

    # --- lifecycle (SPEC §2) --------------------------------------------------
    # Each method stamps what the transition means; inputs arrive validated.

    @transition(field=stage, source=Stage.NEW, target=Stage.MQL)
    def promote(self, *, at, owner, criteria, deadlines):
        self.mql_at = at
        self.mql_criteria = criteria
        self._start_mql_episode(at=at, owner=owner, deadlines=deadlines)

    @transition(field=stage, source=Stage.MQL, target=Stage.ACCEPTED)
    def accept(self, *, at, owner):
        self.accepted_at = at
        self.owner = owner
        # The accept clock is met; the process clock keeps running until qualify or reject.
        self.sla_next_check_at = self._next_check(at, [self.process_remind_at, self.process_due_at])

    @transition(field=stage, source=[Stage.MQL, Stage.ACCEPTED], target=Stage.REJECTED)
    def reject(self, *, at, reason):
        self.rejected_at = at
        self.last_reject_reason = reason
        self.sla_next_check_at = None

    @transition(field=stage, source=Stage.ACCEPTED, target=Stage.SQL)
    def qualify(self, *, at):
        self.sql_at = at
        self.sla_next_check_at = None

    @transition(field=stage, source=Stage.SQL, target=Stage.OPPORTUNITY)
    def convert(self, *, at, amount, currency, expected_close_date):
        self.opportunity_at = at
        self.opportunity_amount = amount
        self.opportunity_currency = currency
        self.expected_close_date = expected_close_date

    @transition(field=stage, source=Stage.OPPORTUNITY, target=Stage.WON)
    def win(self, *, at):
        self.closed_at = at

    @transition(field=stage, source=Stage.OPPORTUNITY, target=Stage.LOST)
    def lose(self, *, at, reason):
        self.closed_at = at
        self.close_reason = reason

    @transition(field=stage, source=Stage.REJECTED, target=Stage.NEW)
    def recycle(self, *, at):
        # Back to nurture: the engagements stay in the history, but the score and
        # counts start afresh so only new engagement can make it an MQL again;
        # otherwise its next page view would re-promote it at once.
        self.recycled_at = at
        self.recycle_count += 1
        self.score, self.engagement_count, self.kind_counts = 0, 0, {}
        self.owner = None
        self.assigned_at = self.accept_due_at = self.process_due_at = None
        self.accept_remind_at = self.process_remind_at = self.sla_next_check_at = None

    @transition(field=stage, source=Stage.REJECTED, target=Stage.MQL)
    def resubmit(self, *, at, owner, deadlines):
        self.mql_at = at
        self._start_mql_episode(at=at, owner=owner, deadlines=deadlines)

    @transition(field=stage, source=[Stage.NEW, Stage.REJECTED], target=Stage.DISQUALIFIED)
    def disqualify(self, *, at, reason):
        self.disqualified_at = at
        self.disqualify_reason = reason
        self.sla_next_check_at = None

    @transition(field=stage, source=OWNED_STAGES, target=None)
    def reassign(self, *, at, owner, deadlines=None):
        """Hand the lead to ``owner``; ``deadlines`` restarts the clocks (breach reassignment)."""
        self.owner = owner
        self.assigned_at = at if owner else None
        if deadlines is not None:
            self._set_clocks(at, deadlines)

    def _start_mql_episode(self, *, at, owner, deadlines):
        self.owner = owner
        self.assigned_at = at if owner else None
        self.accepted_at = None
        self.rejected_at = None
        self._set_clocks(at, deadlines)

    def _set_clocks(self, at, deadlines):
        self.accept_due_at = deadlines.accept_due_at
        self.process_due_at = deadlines.process_due_at
        self.accept_remind_at = deadlines.accept_remind_at
        self.process_remind_at = deadlines.process_remind_at
        self.sla_next_check_at = self._next_check(
            at,
            [
                deadlines.accept_remind_at,
                deadlines.accept_due_at,
                deadlines.process_remind_at,
                deadlines.process_due_at,
            ],
        )

    @staticmethod
    def _next_check(at, moments):
        """The earliest SLA moment the sweep must look at; it moves on as each one is handled."""
        pending = [m for m in moments if m is not None]
        return min(pending) if pending else None


class RejectionCount(models.Model):
    """How many unarchived leads are rejected with each reason ("" for none): the review queue's bars.

    Kept by triggers on the lead table on PostgreSQL (``apps/leads/triggers.py``), whoever
    writes the lead, so the unfiltered queue reads a row a reason instead of counting every
    rejected lead. Never written by the application.
    """

    reason = models.CharField(max_length=40, primary_key=True)
    leads = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.reason or '—'}: {self.leads}"


class Engagement(models.Model):
    # No index of its own: ``engagement_lead_time_idx`` (lead, occurred_at) serves every
    # lookup by lead, and intake writes one entry less per row.
    lead = models.ForeignKey(
        Lead,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="engagements",
        verbose_name=_("lead"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=EngagementKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=40, blank=True)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    points = models.IntegerField(_("points awarded"), default=0)
    # NULL, not "", for "no key": the partial unique index covers only real keys.
    external_id = models.CharField(  # noqa: DJ001
        _("external id"),
        max_length=200,
        null=True,
        blank=True,
        help_text=_("Idempotency key from the sending system: the same id is stored once."),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="engagement_external_id_unique",
            )
        ]
        indexes = [models.Index(fields=["lead", "occurred_at"], name="engagement_lead_time_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Engagements are never deleted."))


class Qualification(models.Model):
    """One BANT assessment that met the SQL criteria; the latest is the lead's."""

    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, related_name="qualifications", verbose_name=_("lead")
    )
    budget_amount = models.DecimalField(_("budget"), max_digits=14, decimal_places=2)
    budget_currency = models.CharField(_("budget currency"), max_length=3)
    authority = models.CharField(
        _("authority"),
        max_length=20,
        choices=[
            ("decision_maker", _("Decision maker")),
            ("influencer", _("Influencer")),
            ("user", _("User")),
            ("unknown", _("Unknown")),
        ],
    )
    need = models.TextField(_("need"))
    timeline = models.DateField(_("expected decision date"))
    notes = models.TextField(_("notes"), blank=True)
    qualified_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+"
    )
    qualified_at = models.DateTimeField(_("qualified at"))

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["-qualified_at", "-id"]

    def __str__(self):
        return f"BANT {self.lead_id} @ {self.qualified_at:%Y-%m-%d}"


class StageTransitionQuerySet(NoDeleteQuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("The stage history is append-only."))


class StageTransition(models.Model):
    """One row per transition, never edited or deleted: the audit log and the reports' source."""

    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("lead")
    )
    transition = models.CharField(_("transition"), max_length=20)
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    actor = optional_link(
        "accounts.User", _("by"), help_text=_("Empty when the system made the change.")
    )
    at = models.DateTimeField(_("at"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    owner = optional_link("accounts.User", _("owner after"))
    criteria = optional_link("criteria.MQLCriteria", _("criteria version"))
    # The SLA clocks this transition started (promote, resubmit, breach reassignment), kept as
    # they were so the reports measure each episode against its own deadlines.
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    process_due_at = models.DateTimeField(_("process by"), null=True, blank=True)

    objects = StageTransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage history")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="transition_lead_time_idx"),
            models.Index(fields=["transition", "at"], name="transition_name_time_idx"),
        ]

    def __str__(self):
        return f"{self.transition}: {self.from_stage} → {self.to_stage}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("The stage history is append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The stage history is append-only."))


class LeadImport(models.Model):
    """One CSV import a marketer started from the UI: a dry-run preview, or the write it confirms.

    The upload is kept as a file (``path``, under ``LEADFLOW_IMPORT_DIR``) that a worker
    reads with ``imports.leads_import_csv``; the row follows its progress for the page.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    file_name = models.CharField(_("file"), max_length=255)
    path = models.CharField(_("stored as"), max_length=500, editable=False)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    dry_run = models.BooleanField(_("preview only"), default=True)
    skip_invalid = models.BooleanField(_("skip invalid rows"), default=False)
    preview = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="confirmations",
        verbose_name=_("preview"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    done_rows = models.PositiveIntegerField(_("rows done"), default=0)
    total_rows = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.done_rows * 100 / self.total_rows))
