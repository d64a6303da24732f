"""What the API accepts and answers; the schema at /api/schema/ is generated from these."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.criteria.models import EngagementKind
from apps.leads.imports import LeadRowForm, active_source_codes
from apps.leads.models import Engagement, Lead, Stage, StageTransition, email_normalize
from apps.leads.transitions import TRANSITIONS, Transition
from apps.reports.alerts import ALERT_CODES

#: Most engagements one request may carry.
MAX_ENGAGEMENTS_PER_REQUEST = 1000
#: Largest ``metadata`` object, as compact UTF-8 JSON.
MAX_METADATA_BYTES = 16 * 1024
#: How far ahead of the server's clock ``occurred_at`` may be (the sender's clock may run fast).
CLOCK_SKEW = dt.timedelta(minutes=5)
#: The earliest engagement time accepted: older is a sender's bug (or year 1), not history.
EARLIEST_ENGAGEMENT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Engagements a lead's detail lists, newest first; ``engagements_total`` counts them all.
DETAIL_ENGAGEMENTS = 200


class RejectUnknownFieldsMixin:
    """A field the endpoint does not know is an error, not silently dropped (a typo would lose data)."""

    def to_internal_value(self, data):
        unknown = []
        if isinstance(data, Mapping):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = dict(exc.detail)
        for name in unknown:
            errors[name] = [
                _("Unknown field; this endpoint takes: %(fields)s.")
                % {"fields": ", ".join(n for n, f in self.fields.items() if not f.read_only)}
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return value


# --- JSON types as the schema states them ------------------------------------------------
# DRF quietly turns 5 into "5" and "5" into 5; the API takes each field in the JSON type its
# schema names, so what the schema documents is exactly what is accepted.


class JSONStringMixin:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(JSONStringMixin, serializers.CharField):
    pass


class EmailAddressField(JSONStringMixin, serializers.EmailField):
    pass


class WholeNumberField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class TrueFalseField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*-?\d+(\.\d+)?\s*$"}],
        "description": 'An amount, as a JSON number or a decimal string such as "25000.00".',
    }
)
class AmountField(serializers.DecimalField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateStringField(serializers.DateField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(data)


# --- errors (documentation only) ------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, fit to show a person.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        required=False,
        help_text=(
            "Present when the problem is in the data rather than the JSON itself. "
            "The problems: field name -> list of messages. For a list of engagements, "
            "item index (as a string) -> {field name -> list of messages}, bad items only."
        ),
    )


class StageConflictSerializer(ErrorSerializer):
    stage = serializers.ChoiceField(choices=Stage.choices, help_text="The lead's current stage.")


# --- leads -------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    """A lead as every endpoint answers it."""

    source = serializers.CharField(
        source="source_id", read_only=True, help_text="Lead source code."
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The owning rep's username, or null.",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            *Lead.PROFILE_FIELDS,
            "stage",
            "score",
            "engagement_count",
            "fit",
            "fit_reason",
            "owner",
            "mql_at",
            "accept_due_at",
            "process_due_at",
            "accepted_at",
            "rejected_at",
            "sql_at",
            "opportunity_at",
            "closed_at",
            "disqualified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EngagementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Engagement
        fields = [
            "id",
            "kind",
            "occurred_at",
            "source",
            "campaign",
            "metadata",
            "external_id",
            "points",
            "created_at",
        ]
        read_only_fields = fields


class StageTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who made it; null for the system.",
    )
    from_stage = serializers.ChoiceField(source="from_stage", choices=Stage.choices, read_only=True)
    to_stage = serializers.ChoiceField(source="to_stage", choices=Stage.choices, read_only=True)

    class Meta:
        model = StageTransition
        fields = ["transition", "from_stage", "to_stage", "actor", "at", "reason", "note"]
        read_only_fields = fields

    def get_fields(self):
        # "from" is a Python keyword, so the fields are declared as from_stage/to_stage and renamed.
        renamed = {"from_stage": "from", "to_stage": "to"}
        return {renamed.get(name, name): field for name, field in super().get_fields().items()}


class LeadDetailSerializer(LeadSerializer):
    engagements = serializers.SerializerMethodField(
        help_text=f"The latest {DETAIL_ENGAGEMENTS} engagements, newest first."
    )
    engagements_total = serializers.SerializerMethodField(
        help_text="How many engagements the lead has in all."
    )
    transitions = serializers.SerializerMethodField(help_text="The stage history, oldest first.")

    class Meta(LeadSerializer.Meta):
        fields = LeadSerializer.Meta.fields + ["engagements", "engagements_total", "transitions"]
        read_only_fields = fields

    @extend_schema_field(EngagementSerializer(many=True))
    def get_engagements(self, lead):
        rows = lead.engagements.order_by("-occurred_at", "-id")[:DETAIL_ENGAGEMENTS]
        return EngagementSerializer(rows, many=True).data

    @extend_schema_field(serializers.IntegerField())
    def get_engagements_total(self, lead) -> int:
        return lead.engagements.count()

    @extend_schema_field(StageTransitionSerializer(many=True))
    def get_transitions(self, lead):
        rows = lead.transitions.select_related("actor").order_by("at", "id")
        return StageTransitionSerializer(rows, many=True).data


def _intake_field(name: str, form_field: forms.Field, help_text: str = "") -> serializers.Field:
    """The JSON type of one ``LeadRowForm`` field, documented with its limits; no value rules.

    The values are judged by the form (``LeadIntakeSerializer.validate``), so the
    API, the CSV import and the admin import share one set of rules and messages.
    """
    kwargs = {"required": form_field.required, "help_text": help_text}
    if isinstance(form_field, forms.IntegerField):
        field = WholeNumberField(
            min_value=form_field.min_value,
            max_value=form_field.max_value,
            allow_null=True,
            **kwargs,
        )
    else:
        kind = EmailAddressField if isinstance(form_field, forms.EmailField) else StringField
        optional = {} if form_field.required else {"allow_blank": True, "allow_null": True}
        field = kind(max_length=form_field.max_length, **optional, **kwargs)
    # The limits stay on the field for the schema; the form applies them, in its own words.
    field.validators = []
    return field


_INTAKE_HELP = {
    "email": "The key: matched case-insensitively.",
    "country": "ISO 3166 two-letter code, any case.",
    "source": "An active lead source code (defaults: website, webinar, event, content, ads, "
    "referral, email, partner, import, other). Kept from the first touch when the lead exists.",
    "campaign": "Kept from the first touch when the lead exists.",
}


class LeadIntakeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A lead to create, or to merge into the lead with the same email."""

    def get_fields(self):
        form = LeadRowForm(active_sources=[], source_required=True)
        return {
            name: _intake_field(name, field, _INTAKE_HELP.get(name, ""))
            for name, field in form.fields.items()
        }

    def validate(self, attrs):
        form = LeadRowForm(
            data={name: "" if value is None else value for name, value in attrs.items()},
            active_sources=active_source_codes(),
            source_required=True,
        )
        if not form.is_valid():
            raise serializers.ValidationError(
                {name: [str(m) for m in messages] for name, messages in form.errors.items()}
            )
        # Only what was sent: a field left out is not a blank to merge.
        return {name: form.cleaned_data[name] for name in attrs}


# --- engagements ------------------------------------------------------------------------


_UNSTORABLE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def _holds_unstorable_text(value) -> bool:
    """True when a string anywhere in ``value`` (keys too) has NUL or a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _UNSTORABLE_CHARACTER.search(item):
            return True
    return False


def occurred_at_problem(value: dt.datetime) -> str:
    """Why an engagement time is refused ("" when it is fine): before 2000 or in the future."""
    try:
        if value < EARLIEST_ENGAGEMENT:
            return _("This time is before %(earliest)s; engagements that old are refused.") % {
                "earliest": EARLIEST_ENGAGEMENT.date().isoformat()
            }
    except OverflowError:  # year 1 in a zone east of UTC has no UTC time
        return _("This time is before %(earliest)s; engagements that old are refused.") % {
            "earliest": EARLIEST_ENGAGEMENT.date().isoformat()
        }
    if value > timezone.now() + CLOCK_SKEW:
        return _("This time is in the future.")
    return ""


def metadata_problem(value) -> str:
    """Why a metadata object cannot be stored ("" when it can)."""
    if _holds_unstorable_text(value):
        return _(
            "metadata holds a NUL character or half a surrogate pair, which no database stores."
        )
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except RecursionError:
        return _("metadata is nested too deeply.")
    if size > MAX_METADATA_BYTES:
        return _("metadata is %(size)s bytes as JSON; the most is %(max)s.") % {
            "size": size,
            "max": MAX_METADATA_BYTES,
        }
    return ""


class EngagementTimeField(serializers.DateTimeField):
    """DRF's datetime field, with times at the calendar's ends answered 400, not 500.

    Reading year 1 without an offset east of UTC (or year 9999 west of it)
    overflows Python's datetime inside DRF's time-zone check.
    """

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            raise serializers.ValidationError(
                occurred_at_problem(EARLIEST_ENGAGEMENT - dt.timedelta(days=1))
                if value.year < EARLIEST_ENGAGEMENT.year
                else _("This time is in the future.")
            ) from None


class EngagementInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """One engagement; its lead named by ``lead_id`` or ``lead_email`` (exactly one)."""

    lead_id = WholeNumberField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="The lead's id."
    )
    lead_email = EmailAddressField(max_length=254, required=False, help_text="Or the lead's email.")
    kind = serializers.ChoiceField(
        choices=EngagementKind.choices,
        error_messages={
            "invalid_choice": _("'{input}' is not an engagement kind; use one of: %(kinds)s.")
            % {"kinds": ", ".join(EngagementKind.values)}
        },
    )
    occurred_at = EngagementTimeField(
        help_text="ISO 8601. Without an offset it is read in the site's time zone. "
        "From 2000-01-01 to at most 5 minutes ahead of the server's clock.",
    )
    source = StringField(max_length=40, required=False, allow_blank=True, default="")
    campaign = StringField(max_length=200, required=False, allow_blank=True, default="")
    external_id = StringField(
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="The sender's idempotency key: an engagement whose external_id is already stored "
        "(or repeated earlier in the same list) is skipped, not stored twice.",
    )
    metadata = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"Any JSON object, at most {MAX_METADATA_BYTES // 1024} KiB as compact UTF-8 JSON.",
    )

    def validate_occurred_at(self, value):
        problem = occurred_at_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_metadata(self, value):
        problem = metadata_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs):
        named = [key for key in ("lead_id", "lead_email") if attrs.get(key) is not None]
        if len(named) != 1:
            message = (
                _("Name the lead by lead_id or by lead_email, not both.")
                if named
                else _("Name the lead by lead_id or lead_email.")
            )
            raise serializers.ValidationError({"lead_id": [message]})
        if attrs.get("lead_email"):
            attrs["lead_email"] = email_normalize(attrs["lead_email"])
        return attrs


_ENGAGEMENT_FIELDS = frozenset(EngagementInputSerializer().fields)
_ENGAGEMENT_KINDS = frozenset(EngagementKind.values)
_email_valid = EmailValidator()


def _plain_text(value, max_length: int) -> str | None:
    """``value`` trimmed, as DRF's CharField would take it; None when it might refuse it."""
    if type(value) is not str:
        return None
    value = value.strip()
    if len(value) > max_length or _UNSTORABLE_CHARACTER.search(value):
        return None
    return value


def _engagement_quick(item) -> dict | None:
    """The validated values of an item that certainly passes; None to ask the serializer.

    The usual item (an offset on its time, plain strings) is checked here without
    DRF's per-field machinery; anything unusual or wrong goes through
    ``EngagementInputSerializer``, so the answers and messages are its own.
    """
    if type(item) is not dict or not item.keys() <= _ENGAGEMENT_FIELDS:
        return None
    attrs = {}
    lead_id, lead_email = item.get("lead_id"), item.get("lead_email")
    if "lead_id" in item:
        if type(lead_id) is not int or not 1 <= lead_id <= 2**63 - 1 or "lead_email" in item:
            return None
        attrs["lead_id"] = lead_id
    elif "lead_email" in item:
        email = _plain_text(lead_email, 254)
        if not email:
            return None
        try:
            _email_valid(email)
        except DjangoValidationError:
            return None
        attrs["lead_email"] = email_normalize(email)
    else:
        return None
    kind = item.get("kind")
    if type(kind) is not str or kind not in _ENGAGEMENT_KINDS:
        return None
    attrs["kind"] = kind
    when = item.get("occurred_at")
    if type(when) is not str:
        return None
    try:
        parsed = parse_datetime(when)
        if parsed is None or parsed.tzinfo is None:
            return None
        parsed = parsed.astimezone(timezone.get_current_timezone())
    except (ValueError, OverflowError):
        return None
    if occurred_at_problem(parsed):
        return None
    attrs["occurred_at"] = parsed
    for name, max_length in (("source", 40), ("campaign", 200)):
        value = _plain_text(item.get(name, ""), max_length)
        if value is None:
            return None
        attrs[name] = value
    external_id = item.get("external_id")
    if external_id is not None:
        external_id = _plain_text(external_id, 200)
        if external_id is None:
            return None
    attrs["external_id"] = external_id
    metadata = item.get("metadata", {})
    if type(metadata) is not dict or metadata_problem(metadata):
        return None
    attrs["metadata"] = dict(metadata)
    return attrs


def engagement_items_clean(items: list) -> tuple[dict[int, dict], dict[int, dict]]:
    """Each item's validated values by index, and each bad item's errors by index.

    One serializer for the whole list, used only for the items the quick check
    does not vouch for.
    """
    checker = None
    cleaned, errors = {}, {}
    for index, item in enumerate(items):
        attrs = _engagement_quick(item)
        if attrs is not None:
            cleaned[index] = attrs
            continue
        checker = checker or EngagementInputSerializer()
        try:
            cleaned[index] = checker.run_validation(item)
        except serializers.ValidationError as exc:
            errors[index] = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
    return cleaned, errors


class EngagementIntakeResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Engagements stored by this request.")
    duplicates = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Indexes of the items skipped because their external_id was already stored "
        "(or came earlier in the list). A single object is index 0.",
    )
    promoted = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the leads this request made MQLs."
    )


# --- transitions -------------------------------------------------------------------------

_FORM_TO_API_FIELDS = [
    (forms.ModelChoiceField, lambda f, kw: StringField(max_length=150, **kw)),
    (
        forms.DecimalField,
        lambda f, kw: AmountField(
            max_digits=f.max_digits, decimal_places=f.decimal_places, min_value=f.min_value, **kw
        ),
    ),
    (forms.DateField, lambda f, kw: DateStringField(**kw)),
    (forms.BooleanField, lambda f, kw: TrueFalseField(**kw)),
    (forms.ChoiceField, lambda f, kw: serializers.ChoiceField(choices=list(f.choices), **kw)),
    (
        forms.CharField,
        lambda f, kw: StringField(max_length=f.max_length, allow_blank=not f.required, **kw),
    ),
]


def _api_field(entry: Transition, name: str, form_field: forms.Field) -> serializers.Field:
    kwargs = {
        "required": form_field.required,
        "help_text": entry.api_help.get(name)
        or str(form_field.help_text or form_field.label or ""),
    }
    if not form_field.required and not isinstance(form_field, forms.BooleanField):
        kwargs["allow_null"] = True
    for form_class, build in _FORM_TO_API_FIELDS:
        if isinstance(form_field, form_class):
            return build(form_field, kwargs)
    return StringField(**kwargs)


def transition_serializer(entry: Transition) -> type[serializers.Serializer]:
    """The body of a transition: its form's fields, plus ``expected_stage``.

    The entry's form stays the judge of the values (``Transition.clean``); this
    serializer checks the JSON types and names the fields the schema documents.
    """
    declared = {
        field_name: _api_field(entry, field_name, f)
        for field_name, f in entry.form.base_fields.items()
    }
    declared["expected_stage"] = serializers.ChoiceField(
        choices=Stage.choices,
        required=False,
        help_text="The stage the caller last saw; when the lead has moved on, 409 and nothing changes.",
    )
    class_name = (
        "".join(part.capitalize() for part in entry.name.split("_")) + "TransitionSerializer"
    )
    declared["__doc__"] = f"The body of the {entry.name} transition."
    return type(class_name, (RejectUnknownFieldsMixin, serializers.Serializer), declared)


TRANSITION_SERIALIZERS = {name: transition_serializer(entry) for name, entry in TRANSITIONS.items()}


# --- weekly report (SPEC §6) ------------------------------------------------------------


class ConversionSliceSerializer(serializers.Serializer):
    mqls = serializers.IntegerField()
    sqls = serializers.IntegerField(help_text="MQLs of the week that have reached SQL.")
    mql_to_sql_rate = serializers.FloatField(
        allow_null=True, help_text="0 to 1; null when there are no MQLs."
    )


class ResponseTimeSerializer(serializers.Serializer):
    median = serializers.FloatField(allow_null=True, help_text="Hours from MQL to accept.")
    p90 = serializers.FloatField(allow_null=True)


class SLARatesSerializer(serializers.Serializer):
    accepted_in_time_rate = serializers.FloatField(allow_null=True)
    processed_in_time_rate = serializers.FloatField(allow_null=True)


class ReportAlertSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(ALERT_CODES))
    message = serializers.CharField()


class WeeklyReportSerializer(serializers.Serializer):
    """The weekly report document, the same one ``weekly_report --format json`` prints."""

    week = serializers.CharField(help_text="ISO week, e.g. 2026-W47.")
    mqls = serializers.IntegerField()
    sqls = serializers.IntegerField()
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    opportunities = serializers.IntegerField()
    sql_to_opportunity_rate = serializers.FloatField(allow_null=True)
    by_source = serializers.DictField(child=ConversionSliceSerializer())
    by_owner = serializers.DictField(child=ConversionSliceSerializer())
    by_criteria_version = serializers.DictField(child=ConversionSliceSerializer())
    response_time_hours = ResponseTimeSerializer()
    sla = SLARatesSerializer()
    reject_reasons = serializers.DictField(child=serializers.IntegerField())
    alerts = ReportAlertSerializer(many=True)


# --- conversion drivers and suggested criteria (SPEC §6) ---------------------------------


class DriverSerializer(serializers.Serializer):
    family = serializers.ChoiceField(
        choices=[
            "kind",
            "engagements",
            "score",
            "employees",
            "industry",
            "country",
            "source",
            "campaign",
            "fit",
        ]
    )
    key = serializers.CharField(help_text="Stable, e.g. `kind:pricing_page_view:any`.")
    label = serializers.CharField(help_text="The signal in words, in the user's language.")
    mqls = serializers.IntegerField(help_text="MQLs of the window that had the signal.")
    sqls = serializers.IntegerField(help_text="Of those, how many reached SQL.")
    sql_rate = serializers.FloatField(help_text="sqls / mqls, 0 to 1.")
    sql_rate_interval = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="95% Wilson interval of the rate: [low, high].",
    )
    lift = serializers.FloatField(
        allow_null=True, help_text="The rate over the window's base rate; null when that is 0."
    )
    lift_interval = serializers.ListField(
        child=serializers.FloatField(allow_null=True), min_length=2, max_length=2
    )
    small_sample = serializers.BooleanField(
        help_text="Seen on fewer MQLs than `small_sample_below`: listed after the others."
    )


class DriversReportSerializer(serializers.Serializer):
    """The signals of the window's MQLs, by lift (small samples last)."""

    from_week = serializers.CharField(help_text="First ISO week of the window.")
    to = serializers.CharField(help_text="Last ISO week of the window.")
    weeks = serializers.IntegerField()
    as_of = serializers.DateTimeField(help_text="Conversions counted up to this moment.")
    mqls = serializers.IntegerField(help_text="Leads promoted in the window, each once.")
    sqls = serializers.IntegerField()
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    small_sample_below = serializers.IntegerField()
    drivers = DriverSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_week")
        return fields


class CriteriaValuesSerializer(serializers.Serializer):
    score_threshold = serializers.IntegerField()
    min_engagements = serializers.IntegerField()
    required_kinds = serializers.ListField(child=serializers.ChoiceField(EngagementKind.values))
    fit_required = serializers.BooleanField()


class FitRuleChangeSerializer(serializers.Serializer):
    employees_min = serializers.IntegerField(allow_null=True)
    employees_max = serializers.IntegerField(allow_null=True)
    allowed_industries = serializers.CharField(allow_blank=True)
    allowed_countries = serializers.CharField(allow_blank=True)


class CandidateSerializer(serializers.Serializer):
    criteria = CriteriaValuesSerializer(help_text="The MQL criteria version to write.")
    fit_rule_change = FitRuleChangeSerializer(
        allow_null=True, help_text="The fit rule it needs; null when the current one stays."
    )
    mqls = serializers.IntegerField(help_text="MQLs it would have made in the window.")
    mqls_per_week = serializers.FloatField()
    sqls = serializers.IntegerField(help_text="Of those, how many reached SQL.")
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    mql_to_sql_rate_interval = serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True
    )
    sqls_kept = serializers.FloatField(
        allow_null=True, help_text="Its SQLs over the window's real SQLs, 0 to 1."
    )
    conditions = serializers.IntegerField()
    changes = serializers.ListField(
        child=serializers.CharField(), help_text="What changes from the active version, in words."
    )
    description = serializers.CharField(help_text="The whole criteria in words.")


class BandSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()


class SuggestionsSerializer(serializers.Serializer):
    """Criteria whose replayed MQL→SQL lands in the band: the front, most SQLs kept first."""

    from_week = serializers.CharField()
    to = serializers.CharField()
    weeks = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    band = BandSerializer(help_text="The target band as fractions (the query gives percents).")
    mqls = serializers.IntegerField(help_text="The window's real MQLs.")
    mqls_per_week = serializers.FloatField()
    sqls = serializers.IntegerField()
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    active = CandidateSerializer(allow_null=True, help_text="The active version, replayed alike.")
    candidates = CandidateSerializer(many=True)
    reason = serializers.ChoiceField(
        choices=["too_little_history", "out_of_reach"],
        allow_null=True,
        help_text="Why `candidates` is empty: too few MQLs or SQLs in the window, or no criteria "
        "reach the band. Null when there are candidates.",
    )
    closest = CandidateSerializer(
        allow_null=True,
        help_text="When nothing reaches the band: the nearest miss (not a suggestion).",
    )
    candidates_evaluated = serializers.IntegerField()
    leads_replayed = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_week")
        return fields
