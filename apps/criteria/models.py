"""The rules admins tune in Django admin (SPEC §3, §4).

MQL criteria are versioned: a save never edits a row, it adds the next version
and makes it the active one, so every promotion can name the version that made
it. The other rule sets are single rows (``SingletonModel``) or short lists.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.criteria import rules
from apps.criteria.clock import SLADeadlines, WorkingCalendar, sla_deadlines
from leadflow.fields import optional_link


class EngagementKind(models.TextChoices):
    PAGE_VIEW = "page_view", _("Page view")
    PRICING_PAGE_VIEW = "pricing_page_view", _("Pricing page view")
    CONTENT_DOWNLOAD = "content_download", _("Content download")
    WEBINAR_REGISTRATION = "webinar_registration", _("Webinar registration")
    WEBINAR_ATTENDANCE = "webinar_attendance", _("Webinar attendance")
    EMAIL_CLICK = "email_click", _("Email click")
    INQUIRY = "inquiry", _("Inquiry")
    DOCUMENT_REQUEST = "document_request", _("Document request")
    QUOTE_REQUEST = "quote_request", _("Quote request")
    DEMO_REQUEST = "demo_request", _("Demo request")
    EVENT_VISIT = "event_visit", _("Event visit")


class Authority(models.TextChoices):
    DECISION_MAKER = "decision_maker", rules.AUTHORITY_LABELS["decision_maker"]
    INFLUENCER = "influencer", rules.AUTHORITY_LABELS["influencer"]
    USER = "user", rules.AUTHORITY_LABELS["user"]
    UNKNOWN = "unknown", rules.AUTHORITY_LABELS["unknown"]


code_validator = RegexValidator(
    r"^[a-z0-9_]+$", _("Use lower-case letters, digits and underscores only.")
)
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code, e.g. USD."))


def split_codes(text: str) -> list[str]:
    """'Software, saas\\nFinance' -> ['software', 'saas', 'finance']."""
    return [part.strip().lower() for part in text.replace("\n", ",").split(",") if part.strip()]


class SingletonModel(models.Model):
    """A rule set with exactly one row, created with its defaults on first read."""

    singleton_id = 1

    class Meta:
        abstract = True

    def __str__(self):
        return capfirst(str(self._meta.verbose_name))

    def save(self, *args, **kwargs):
        self.pk = self.singleton_id
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This rule set cannot be deleted; edit it instead."))

    @classmethod
    def load(cls):
        obj, _created = cls.objects.get_or_create(pk=cls.singleton_id)
        return obj


class CodedChoice(models.Model):
    """An admin-edited list entry: a stable code and a human label."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[code_validator],
        help_text=_("Stable identifier used by the API, imports and reports. Do not rename."),
    )
    label = models.CharField(_("label"), max_length=100)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive entries stay on old leads but cannot be chosen."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "code"]

    def __str__(self):
        # A default label (apps.leads.labels) in the reader's language; one an admin typed, as typed.
        return gettext(self.label) if self.label else self.label


class LeadSource(CodedChoice):
    class Meta(CodedChoice.Meta):
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")


class RejectReason(CodedChoice):
    class Meta(CodedChoice.Meta):
        verbose_name = _("reject reason")
        verbose_name_plural = _("reject reasons")


class DisqualifyReason(CodedChoice):
    class Meta(CodedChoice.Meta):
        verbose_name = _("disqualify reason")
        verbose_name_plural = _("disqualify reasons")


class ScoringRule(models.Model):
    kind = models.CharField(
        _("engagement kind"), max_length=32, choices=EngagementKind.choices, unique=True
    )
    points = models.PositiveSmallIntegerField(
        _("points"), help_text=_("Points a lead earns each time it does this.")
    )

    class Meta:
        ordering = ["kind"]
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.points}"


class ScoringSettings(SingletonModel):
    score_cap = models.PositiveIntegerField(
        _("score cap"),
        null=True,
        blank=True,
        help_text=_("Highest score a lead can reach. Blank: no cap."),
    )
    decay_after_days = models.PositiveIntegerField(
        _("decay after (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Engagements older than this count less (see below). Blank: no decay."),
    )
    decayed_points_percent = models.PositiveSmallIntegerField(
        _("decayed points kept (%)"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Share of its points an engagement keeps once decayed: 0 drops it, 50 halves it."
        ),
    )

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")

    def clean(self):
        if self.decayed_points_percent is not None and self.decayed_points_percent > 100:
            raise ValidationError(
                {"decayed_points_percent": _("Keep no more than 100 percent of the points.")}
            )

    @classmethod
    def current_table(cls) -> rules.ScoringTable:
        settings = cls.load()
        return rules.ScoringTable(
            points={rule.kind: rule.points for rule in ScoringRule.objects.all()},
            cap=settings.score_cap,
            decay_after_days=settings.decay_after_days,
            decayed_percent=settings.decayed_points_percent,
        )


class FitRule(SingletonModel):
    employees_min = models.PositiveIntegerField(
        _("minimum employees"),
        null=True,
        blank=True,
        default=rules.FitRuleValues.employees_min,
        help_text=_("Blank: no minimum."),
    )
    employees_max = models.PositiveIntegerField(
        _("maximum employees"),
        null=True,
        blank=True,
        default=rules.FitRuleValues.employees_max,
        help_text=_("Blank: no maximum."),
    )
    allowed_industries = models.TextField(
        _("allowed industries"),
        blank=True,
        help_text=_(
            "Comma- or line-separated industry codes, e.g. software, finance. Blank: any industry."
        ),
    )
    allowed_countries = models.TextField(
        _("allowed countries"),
        blank=True,
        help_text=_(
            "Comma-separated ISO 3166 two-letter country codes, e.g. US, JP. Blank: any country."
        ),
    )

    class Meta:
        verbose_name = _("fit rule")
        verbose_name_plural = _("fit rule")

    def clean(self):
        errors = {}
        if (
            self.employees_min is not None
            and self.employees_max is not None
            and self.employees_min > self.employees_max
        ):
            errors["employees_max"] = _("The maximum must be at least the minimum (%(min)s).") % {
                "min": self.employees_min
            }
        bad = [c for c in split_codes(self.allowed_countries) if len(c) != 2 or not c.isalpha()]
        if bad:
            errors["allowed_countries"] = _("Not two-letter country codes: %(codes)s") % {
                "codes": ", ".join(bad)
            }
        if errors:
            raise ValidationError(errors)

    CHANGEABLE_FIELDS = (
        "employees_min",
        "employees_max",
        "allowed_industries",
        "allowed_countries",
    )

    @staticmethod
    def values_of(rule: rules.FitRuleValues) -> dict:
        """The field values that express ``rule`` (what a draft's ``fit_rule_change`` holds)."""
        return {
            "employees_min": rule.employees_min,
            "employees_max": rule.employees_max,
            "allowed_industries": ", ".join(sorted(rule.industries)),
            "allowed_countries": ", ".join(sorted(rule.countries)),
        }

    @classmethod
    def apply_change(cls, values: dict) -> "FitRule":
        """Set the fit rule to ``values`` (validated); used when a draft that changes it is published."""
        cls.load()
        rule = cls.objects.select_for_update().get(pk=cls.singleton_id)
        for name in cls.CHANGEABLE_FIELDS:
            if name in values:
                setattr(rule, name, values[name])
        rule.full_clean()
        rule.save()
        return rule

    def as_rule(self) -> rules.FitRuleValues:
        return rules.FitRuleValues(
            employees_min=self.employees_min,
            employees_max=self.employees_max,
            industries=frozenset(split_codes(self.allowed_industries)),
            countries=frozenset(code.upper() for code in split_codes(self.allowed_countries)),
        )


def default_required_kinds():
    return sorted(rules.MQLRule.required_kinds)


# Notes our own code stores in English (the seeded first version, the fallback): shown in the
# reader's language. Stored rows keep the English; any other note is the author's own words.
SEEDED_CRITERIA_NOTES = {
    "SPEC defaults": _("SPEC defaults"),
    "defaults": _("defaults"),
}


class MQLCriteria(models.Model):
    """One version of the MQL criteria; rows are never edited, only superseded.

    A *draft* (``version`` is None) is a proposal not yet published, made from a
    suggested candidate: it is never active, so nothing promotes with it until an
    admin publishes it, which gives it the next version number and makes it active.
    """

    version = models.PositiveIntegerField(
        _("version"), unique=True, null=True, editable=False, help_text=_("Empty for a draft.")
    )
    is_active = models.BooleanField(_("active"), default=False, editable=False)
    score_threshold = models.PositiveIntegerField(
        _("score threshold"),
        default=rules.MQLRule.score_threshold,
        help_text=_("A lead qualifies at this score or more."),
    )
    min_engagements = models.PositiveIntegerField(
        _("minimum engagements"),
        default=rules.MQLRule.min_engagements,
        help_text=_("Engagements the lead must have recorded."),
    )
    required_kinds = models.JSONField(
        _("required engagement kinds"),
        default=default_required_kinds,
        blank=True,
        help_text=_("The lead must have done each of these at least once."),
    )
    fit_required = models.BooleanField(
        _("fit required"),
        default=rules.MQLRule.fit_required,
        help_text=_("Only leads whose fit is 'pass' qualify."),
    )
    note = models.CharField(_("why this version"), max_length=255, blank=True)
    # A draft made from a suggestion may also change the (unversioned) fit rule; publishing
    # the draft applies it. Kept afterwards as the record of what that version changed.
    fit_rule_change = models.JSONField(
        _("fit rule change"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The fit rule this version set when it was published "
            "(employees, industries, countries). Empty: the fit rule was left as it was."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = optional_link("accounts.User", _("created by"), editable=False)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("MQL criteria")
        verbose_name_plural = _("MQL criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_mql_criteria"
            )
        ]

    def __str__(self):
        if self.is_draft:
            return _("MQL criteria draft #%(pk)s") % {"pk": self.pk}
        return _("MQL criteria v%(version)s") % {"version": self.version}

    @property
    def is_draft(self) -> bool:
        return self.version is None

    @property
    def note_text(self) -> str:
        """The note as a reader sees it: a note our code seeded, in the active language."""
        return str(SEEDED_CRITERIA_NOTES.get(self.note, self.note))

    def clean(self):
        unknown = set(self.required_kinds or []) - set(EngagementKind.values)
        if unknown:
            raise ValidationError(
                {
                    "required_kinds": _("Unknown engagement kinds: %(kinds)s")
                    % {"kinds": ", ".join(sorted(unknown))}
                }
            )

    def delete(self, *args, **kwargs):
        raise ValidationError(
            _("Criteria versions are kept for the reports; they cannot be deleted.")
        )

    def proposed_fit_rule(self) -> rules.FitRuleValues | None:
        """The fit rule this version sets when published, or None when it leaves it alone."""
        if not self.fit_rule_change:
            return None
        return FitRule(
            **{k: v for k, v in self.fit_rule_change.items() if k in FitRule.CHANGEABLE_FIELDS}
        ).as_rule()

    def as_rule(self) -> rules.MQLRule:
        return rules.MQLRule(
            score_threshold=self.score_threshold,
            min_engagements=self.min_engagements,
            required_kinds=frozenset(self.required_kinds or []),
            fit_required=self.fit_required,
        )

    @classmethod
    def active(cls) -> "MQLCriteria":
        criteria = cls.objects.filter(is_active=True).first()
        return criteria or cls.publish(values={}, author=None, note="defaults")

    @classmethod
    def publish(cls, *, values: dict, author, note: str = "", draft=None) -> "MQLCriteria":
        """Save ``values`` as the next version and make it the active one.

        With ``draft`` (an unpublished row), that row becomes the new version,
        with ``values`` as finally edited, and its fit rule change, if any, is
        applied to the fit rule in the same transaction.
        """
        with transaction.atomic():
            # Lock the active row so two admins saving at once get consecutive versions.
            list(cls.objects.select_for_update().filter(is_active=True))
            last = cls.objects.aggregate(v=Max("version"))["v"] or 0
            if draft is None:
                cls.objects.filter(is_active=True).update(is_active=False)
                return cls.objects.create(
                    version=last + 1, is_active=True, created_by=author, note=note, **values
                )
            locked = cls.objects.select_for_update().get(pk=draft.pk)
            if not locked.is_draft:
                raise ValidationError(
                    _("This draft was already published as version %(v)s.") % {"v": locked.version}
                )
            if locked.fit_rule_change:
                FitRule.apply_change(locked.fit_rule_change)
            cls.objects.filter(is_active=True).update(is_active=False)
            for key, value in values.items():
                setattr(locked, key, value)
            locked.version, locked.is_active, locked.created_by = last + 1, True, author
            locked.note = note or locked.note
            locked.created_at = timezone.now()
            locked.save()
            return locked

    @classmethod
    def create_draft(
        cls, *, values: dict, fit_rule_change: dict | None, author, note: str = ""
    ) -> "MQLCriteria":
        """An unpublished version with ``values`` (an identical open draft is reused).

        ``fit_rule_change``: the FitRule field values publishing should set, or None.
        """
        if fit_rule_change:
            unknown = set(fit_rule_change) - set(FitRule.CHANGEABLE_FIELDS)
            if unknown:
                raise ValidationError(
                    _("Not fit rule fields: %(names)s") % {"names": ", ".join(sorted(unknown))}
                )
            FitRule(**fit_rule_change).clean()
        draft = cls(fit_rule_change=fit_rule_change or None, note=note, created_by=author, **values)
        draft.full_clean(exclude=["created_by"])
        same = cls.objects.filter(
            version__isnull=True,
            score_threshold=draft.score_threshold,
            min_engagements=draft.min_engagements,
            fit_required=draft.fit_required,
        )
        for existing in same:
            if (
                sorted(existing.required_kinds or []) == sorted(draft.required_kinds or [])
                and existing.fit_rule_change == draft.fit_rule_change
            ):
                return existing
        draft.save()
        return draft


class SQLCriteria(SingletonModel):
    min_budget = models.DecimalField(
        _("minimum budget"),
        max_digits=14,
        decimal_places=2,
        default=rules.BANTRule.min_budget,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("In the account currency."),
    )
    account_currency = models.CharField(
        _("account currency"),
        max_length=3,
        default=rules.BANTRule.account_currency,
        validators=[currency_validator],
    )
    max_timeline_months = models.PositiveSmallIntegerField(
        _("maximum timeline (months)"),
        default=rules.BANTRule.max_timeline_months,
        validators=[MinValueValidator(1)],
        help_text=_("The decision must be expected within this many months."),
    )
    accepted_authorities = models.JSONField(
        _("accepted authority levels"),
        default=rules.default_authorities,
        help_text=_("Contacts with one of these authority levels qualify."),
    )
    need_required = models.BooleanField(
        _("need must be stated"), default=rules.BANTRule.need_required
    )

    class Meta:
        verbose_name = _("SQL (BANT) criteria")
        verbose_name_plural = _("SQL (BANT) criteria")

    def clean(self):
        unknown = set(self.accepted_authorities or []) - set(Authority.values)
        if unknown:
            raise ValidationError(
                {
                    "accepted_authorities": _("Unknown authority levels: %(levels)s")
                    % {"levels": ", ".join(sorted(unknown))}
                }
            )
        if not self.accepted_authorities:
            raise ValidationError(
                {"accepted_authorities": _("Accept at least one authority level.")}
            )

    def as_rule(self) -> rules.BANTRule:
        return rules.BANTRule(
            min_budget=self.min_budget,
            account_currency=self.account_currency,
            max_timeline_months=self.max_timeline_months,
            accepted_authorities=frozenset(self.accepted_authorities or []),
            need_required=self.need_required,
            rates={r.currency: r.rate for r in CurrencyRate.objects.all()},
        )


class CurrencyRate(models.Model):
    currency = models.CharField(
        _("currency"), max_length=3, unique=True, validators=[currency_validator]
    )
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Units of the account currency for one unit of this currency."),
    )

    class Meta:
        ordering = ["currency"]
        verbose_name = _("currency rate")
        verbose_name_plural = _("currency rates")

    def __str__(self):
        return f"{self.currency} = {self.rate}"


def default_working_days():
    return [0, 1, 2, 3, 4]


class SLAPolicy(SingletonModel):
    accept_within_hours = models.PositiveIntegerField(
        _("accept within (hours)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("An MQL must be accepted or rejected this long after it becomes an MQL."),
    )
    process_within_hours = models.PositiveIntegerField(
        _("process within (hours)"),
        default=48,
        validators=[MinValueValidator(1)],
        help_text=_("An MQL must be qualified or rejected this long after it becomes an MQL."),
    )
    remind_before_hours = models.PositiveIntegerField(
        _("remind before (hours)"),
        default=4,
        help_text=_("The owner is reminded this long before each deadline. 0: no reminders."),
    )
    escalate_on_breach = models.BooleanField(
        _("escalate on breach"),
        default=True,
        help_text=_("When a deadline passes, notify every sales manager as well as the owner."),
    )
    reassign_on_breach = models.BooleanField(
        _("reassign on breach"),
        default=False,
        help_text=_(
            "When an MQL is not accepted in time, give it to the next rep in the round-robin "
            "(never back to the rep who missed it), with fresh clocks."
        ),
    )
    business_hours = models.BooleanField(
        _("count business hours only"),
        default=False,
        help_text=_(
            "Off: the clocks run around the clock. On: only the working days and hours below count, "
            "and every 24 h of a window is one working day (24 h from Friday 17:00 is Monday 17:00)."
        ),
    )
    working_days = models.JSONField(
        _("working days"),
        default=default_working_days,
        blank=True,
        help_text=_("Days the clocks run when business hours are on (0 = Monday … 6 = Sunday)."),
    )
    workday_start = models.TimeField(_("working day starts"), default=dt.time(9, 0))
    workday_end = models.TimeField(_("working day ends"), default=dt.time(18, 0))
    holiday_country = models.CharField(
        _("national holidays of"),
        max_length=2,
        blank=True,
        help_text=_(
            "Two-letter country code, e.g. JP or US: its national holidays stop the clocks. Blank: none."
        ),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policy")

    def clean(self):
        errors = {}
        if (
            self.accept_within_hours
            and self.process_within_hours
            and self.process_within_hours < self.accept_within_hours
        ):
            errors["process_within_hours"] = _("Processing cannot be due before acceptance.")
        if self.accept_within_hours and self.remind_before_hours >= self.accept_within_hours:
            errors["remind_before_hours"] = _(
                "A reminder must come after the clock starts: use fewer hours than the accept window."
            )
        if self.business_hours:
            days = self.working_days or []
            if not days or any(d not in range(7) for d in days):
                errors["working_days"] = _("Choose at least one working day.")
            if self.workday_start and self.workday_end and self.workday_start >= self.workday_end:
                errors["workday_end"] = _("The working day must end after it starts.")
        if self.holiday_country:
            self.holiday_country = self.holiday_country.upper()
            if self.holiday_country not in holidays.list_supported_countries():
                errors["holiday_country"] = _("No holiday calendar for '%(code)s'.") % {
                    "code": self.holiday_country
                }
        if errors:
            raise ValidationError(errors)

    def calendar(self):
        """The working calendar of the clocks, or None for wall-clock time."""
        if not self.business_hours:
            return None
        return WorkingCalendar(
            tz=ZoneInfo(settings.TIME_ZONE),
            working_days=frozenset(self.working_days or []),
            day_start=self.workday_start,
            day_end=self.workday_end,
            holidays=holidays.country_holidays(self.holiday_country)
            if self.holiday_country
            else frozenset(),
        )

    def deadlines(self, start: dt.datetime) -> SLADeadlines:
        """The deadlines and reminder times of an MQL whose clocks start at ``start``."""
        return sla_deadlines(
            start,
            accept_hours=self.accept_within_hours,
            process_hours=self.process_within_hours,
            remind_before_hours=self.remind_before_hours,
            calendar=self.calendar(),
        )
