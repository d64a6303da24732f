"""The JSON API of SPEC §7: thin views that validate, call one service and answer.

Who may call what follows ``apps.accounts.permissions``: marketing creates leads
and records engagements; every role reads the leads it may see; transitions are
decided by ``lead_transition`` (403 role, 409 stage, 400 input).
"""

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import visible_leads_filter
from apps.api import examples
from apps.api.exceptions import validation_error_body
from apps.api.filters import LeadApiFilter
from apps.api.permissions import (
    HasLeadflowRole,
    MayCreateLeadsToPost,
    MayRecordEngagements,
    MayViewReports,
)
from apps.api.serializers import (
    MAX_ENGAGEMENTS_PER_REQUEST,
    TRANSITION_SERIALIZERS,
    DriversReportSerializer,
    EngagementInputSerializer,
    EngagementIntakeResultSerializer,
    ErrorSerializer,
    LeadDetailSerializer,
    LeadIntakeSerializer,
    LeadSerializer,
    StageConflictSerializer,
    SuggestionsSerializer,
    ValidationErrorSerializer,
    WeeklyReportSerializer,
    engagement_items_clean,
)
from apps.leads.imports import lead_intake
from apps.leads.models import Lead
from apps.leads.selectors import lead_for_user, leads_for_user
from apps.leads.services import EngagementInput, engagements_record, lead_transition
from apps.leads.transitions import (
    TRANSITIONS,
    LeadChanged,
    TransitionForbidden,
    TransitionInvalid,
    TransitionNotAvailable,
    UnknownTransition,
    transition_named,
)
from apps.reports.drivers import conversion_drivers
from apps.reports.forms import SuggestionsForm, WindowForm
from apps.reports.services import ReportWeekError, weekly_report_document
from apps.reports.suggest import suggestions_for_window


class LeadflowAPIView(APIView):
    def throttled(self, request, wait):
        refused = exceptions.Throttled(wait=wait)  # sets Retry-After
        # Our own sentence only: DRF would append its "Expected available in …" to it.
        refused.detail = exceptions.ErrorDetail(
            _("Rate limit exceeded: retry in %(n)s seconds.") % {"n": int(wait or 1)},
            code=refused.default_code,
        )
        raise refused


# --- leads ---------------------------------------------------------------------------------


class LeadCollectionView(LeadflowAPIView, generics.GenericAPIView):
    permission_classes = [MayCreateLeadsToPost]
    serializer_class = LeadSerializer
    filterset_class = LeadApiFilter

    def get_queryset(self):
        return leads_for_user(self.request.user)

    @extend_schema(
        operation_id="leads_list",
        summary="List the leads the caller may see",
        description="Newest first, 50 a page (`page_size` up to 500); follow `next` for the next page. "
        "Marketing and managers see every lead, a rep their own and the unassigned MQLs.",
        tags=["leads"],
        responses={
            200: LeadSerializer(many=True),
            400: ValidationErrorSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="The cursor is not one this API gave."
            ),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    @extend_schema(
        operation_id="leads_create_or_update",
        summary="Create a lead, or update the lead with this email",
        description="Idempotent by email: 201 when the lead is new, 200 when it existed. On an update, "
        "blank or null values leave the stored ones, and `source` and `campaign` keep the "
        "first touch. Marketing only.",
        tags=["leads"],
        request=LeadIntakeSerializer,
        responses={
            201: OpenApiResponse(LeadSerializer, description="Created."),
            200: OpenApiResponse(
                LeadSerializer, description="Updated: a lead with this email existed."
            ),
            400: ValidationErrorSerializer,
        },
        examples=[examples.LEAD_REQUEST, examples.LEAD_RESPONSE, examples.LEAD_INVALID],
    )
    def post(self, request):
        serializer = LeadIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        lead, created = lead_intake(email=values.pop("email"), values=values)
        lead = Lead.objects.select_related("owner").get(pk=lead.pk)
        return Response(
            LeadSerializer(lead).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": reverse("api:lead", args=[lead.pk])},
        )


class LeadDetailView(LeadflowAPIView, generics.GenericAPIView):
    permission_classes = [HasLeadflowRole]
    serializer_class = LeadDetailSerializer

    @extend_schema(
        operation_id="leads_retrieve",
        summary="One lead with its engagements and stage history",
        tags=["leads"],
        responses={200: LeadDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk):
        return Response(LeadDetailSerializer(lead_for_user(request.user, pk)).data)


# --- engagements ---------------------------------------------------------------------------


class EngagementIntakeView(LeadflowAPIView):
    permission_classes = [MayRecordEngagements]

    @extend_schema(
        operation_id="engagements_record",
        summary="Record one engagement or a list of up to 1,000",
        description=(
            "All or nothing: when any item is bad, 400 lists each bad item by index and nothing is "
            "stored. An item whose `external_id` is already stored is skipped (idempotent, even for "
            "two requests at the same moment). Leads are scored, and promoted to MQL when they meet "
            "the criteria, in the same transaction. 201 when something was stored; 200 when every "
            "item was a duplicate. Marketing only."
        ),
        tags=["engagements"],
        # One object here; the schema hook adds the list form (``apps.api.schema``).
        request=EngagementInputSerializer,
        responses={
            201: OpenApiResponse(
                EngagementIntakeResultSerializer, description="At least one engagement stored."
            ),
            200: OpenApiResponse(
                EngagementIntakeResultSerializer, description="Every item was a duplicate."
            ),
            400: ValidationErrorSerializer,
        },
        examples=[
            examples.ENGAGEMENT_ONE,
            examples.ENGAGEMENT_LIST,
            examples.ENGAGEMENT_RESULT,
            examples.ENGAGEMENT_INVALID,
        ],
    )
    def post(self, request):
        data = request.data
        single = isinstance(data, dict)
        items = [data] if single else data
        if not isinstance(items, list):
            raise exceptions.ValidationError(_("Send one engagement object or a list of them."))
        if not items:
            raise exceptions.ValidationError(_("The list is empty; send at least one engagement."))
        if len(items) > MAX_ENGAGEMENTS_PER_REQUEST:
            raise exceptions.ValidationError(
                _("A request carries at most %(max)s engagements; this one has %(n)s.")
                % {"max": MAX_ENGAGEMENTS_PER_REQUEST, "n": len(items)}
            )

        validated, errors = self._validate(items)
        if errors:
            if single:
                return Response(
                    validation_error_body(errors[0]), status=status.HTTP_400_BAD_REQUEST
                )
            detail = _(
                "%(bad)s of %(n)s engagements are invalid; nothing was stored. First: item %(first)s."
            ) % {"bad": len(errors), "n": len(items), "first": min(errors)}
            return Response(
                validation_error_body({str(i): errors[i] for i in sorted(errors)}, detail=detail),
                status=status.HTTP_400_BAD_REQUEST,
            )

        result = engagements_record(items=validated)
        index_of = {id(item): index for index, item in enumerate(validated)}
        body = {
            "created": len(result.created),
            "duplicates": sorted(index_of[id(item)] for item in result.duplicates),
            "promoted": sorted(result.promoted_lead_ids),
        }
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def _validate(self, items) -> tuple[list[EngagementInput], dict[int, dict]]:
        """Every item checked, and every named lead found in one query; errors by index."""
        cleaned, errors = engagement_items_clean(items)

        ids = {attrs["lead_id"] for attrs in cleaned.values() if attrs.get("lead_id")}
        emails = {attrs["lead_email"] for attrs in cleaned.values() if attrs.get("lead_email")}
        leads = Lead.objects.filter(Q(pk__any_of=ids) | Q(email__any_of=emails))
        visible = visible_leads_filter(self.request.user)
        if visible is not None:
            leads = leads.filter(visible)
        found = list(leads.values_list("pk", "email", "archived_at"))
        archived = {pk for pk, _email, archived_at in found if archived_at is not None}
        known_ids = {pk for pk, _email, _archived_at in found}
        id_by_email = {email: pk for pk, email, _archived_at in found}

        inputs = []
        for index, attrs in cleaned.items():
            if attrs.get("lead_id"):
                field, lead_id = (
                    "lead_id",
                    attrs["lead_id"] if attrs["lead_id"] in known_ids else None,
                )
            else:
                field, lead_id = "lead_email", id_by_email.get(attrs["lead_email"])
            if lead_id is None:
                # Worded only for the items that need it (a list of 500 would word 500).
                missing = (
                    _("No lead with id %(id)s.") % {"id": attrs["lead_id"]}
                    if field == "lead_id"
                    else _("No lead with email %(email)s.") % {"email": attrs["lead_email"]}
                )
                errors[index] = {field: [missing]}
                continue
            if lead_id in archived:
                # Scoring could promote it into an inbox where nobody would ever see it.
                errors[index] = {
                    field: [
                        _("Lead %(id)s is archived; it takes no engagements.") % {"id": lead_id}
                    ]
                }
                continue
            inputs.append(
                EngagementInput(
                    lead_id=lead_id,
                    kind=attrs["kind"],
                    occurred_at=attrs["occurred_at"],
                    source=attrs["source"],
                    campaign=attrs["campaign"],
                    metadata=attrs["metadata"],
                    external_id=attrs["external_id"] or None,
                )
            )
        return inputs, errors


# --- transitions ---------------------------------------------------------------------------


class LeadTransitionView(LeadflowAPIView):
    """``POST /api/v1/leads/{id}/transitions/{name}/``; one subclass per transition (see ``urls``)."""

    permission_classes = [HasLeadflowRole]
    transition_name = ""

    def post(self, request, pk):
        if not Lead.objects.filter(pk=pk, archived_at__isnull=True).exists():
            raise exceptions.NotFound(_("No such lead."))
        entry = TRANSITIONS[self.transition_name]
        serializer = TRANSITION_SERIALIZERS[entry.name](data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {key: value for key, value in serializer.validated_data.items() if value is not None}
        expected_stage = data.pop("expected_stage", None)
        try:
            lead_transition(
                lead=pk,
                name=entry.name,
                actor=request.user,
                values=entry.clean(data),
                expected_stage=expected_stage,
            )
        except TransitionForbidden as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except (TransitionNotAvailable, LeadChanged) as exc:
            return Response(
                {"detail": str(exc), "stage": exc.stage}, status=status.HTTP_409_CONFLICT
            )
        except TransitionInvalid as exc:
            raise exceptions.ValidationError(exc.errors) from exc
        lead = Lead.objects.select_related("owner").get(pk=pk)
        return Response(LeadDetailSerializer(lead).data)


def transition_view(name: str):
    """The view class for transition ``name``, with its own request body in the schema."""

    def post(self, request, pk):
        return LeadTransitionView.post(self, request, pk)

    post = extend_schema(
        operation_id=f"leads_transition_{name}",
        summary=TRANSITIONS[name].summary,
        description="200 answers the lead after the transition. 403: the caller's role may not make it "
        "on this lead. 409: the lead's stage does not allow it (or is no longer "
        "`expected_stage`); the body names the current stage. 400: a required field is "
        "missing or wrong.",
        tags=["transitions"],
        request=TRANSITION_SERIALIZERS[name],
        responses={
            200: LeadDetailSerializer,
            400: ValidationErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: StageConflictSerializer,
        },
        examples=examples.TRANSITION_EXAMPLES.get(name, []),
    )(post)
    return type(
        f"{name.capitalize()}TransitionView",
        (LeadTransitionView,),
        {"transition_name": name, "post": post},
    )


@csrf_exempt
def unknown_transition(request, pk, name):
    """Any other name under transitions/: JSON 404, as the rest of the API answers."""
    try:
        transition_named(name)
    except UnknownTransition as exc:
        return JsonResponse({"detail": str(exc)}, status=404)
    return api_not_found(request)


@csrf_exempt
def api_not_found(request, path=""):
    return JsonResponse(
        {"detail": _("There is no API endpoint at %(path)s.") % {"path": request.path}}, status=404
    )


# --- reports -------------------------------------------------------------------------------


class WeeklyReportView(LeadflowAPIView):
    permission_classes = [MayViewReports]

    @extend_schema(
        operation_id="reports_weekly_retrieve",
        summary="The weekly conversion report of an ISO week",
        description="Complete weeks answer their stored report (built on first request); the current "
        "week is computed live. Rates are fractions from 0 to 1, null where there is nothing to divide by.",
        tags=["reports"],
        responses={200: WeeklyReportSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request, week):
        try:
            document = weekly_report_document(week)
        except ReportWeekError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(document)


WEEK_PARAMETERS = [
    OpenApiParameter(
        name,
        str,
        OpenApiParameter.QUERY,
        required=False,
        pattern=r"^\d{4}-W\d{2}$",
        description=description,
    )
    for name, description in (
        ("from", "First ISO week of the window (YYYY-Www). Default: 12 weeks before `to`."),
        ("to", "Last ISO week of the window (YYYY-Www). Default: the last complete week."),
    )
]
BAND_PARAMETERS = [
    OpenApiParameter(
        name,
        {"type": "number", "minimum": 0, "maximum": 100},
        OpenApiParameter.QUERY,
        required=False,
        description=description,
    )
    for name, description in (
        ("low", "Lower end of the target MQL→SQL band, in percent (default 20)."),
        ("high", "Upper end, in percent, above `low` (default 30)."),
    )
]


def _form_errors(form) -> Response:
    errors = {
        ("non_field_errors" if field == "__all__" else field): [str(e) for e in messages]
        for field, messages in form.errors.items()
    }
    return Response(validation_error_body(errors), status=status.HTTP_400_BAD_REQUEST)


class DriversView(LeadflowAPIView):
    permission_classes = [MayViewReports]

    @extend_schema(
        operation_id="reports_drivers_retrieve",
        summary="Conversion drivers: the signals the window's SQLs share",
        description="Over the MQL cohorts of `from`–`to` (default: the last 12 complete weeks), "
        "each signal a lead had when it was promoted (engagement kinds and counts, score, company "
        "size, industry, country, source, campaign, fit) with the MQLs that had it, how many "
        "reached SQL, the rate with a 95% Wilson interval and its lift over the base rate. Sorted "
        "by lift; signals seen on fewer than `small_sample_below` MQLs come after the rest. "
        "Engagements are counted up to each promotion; the profile is the lead's as it is now.",
        tags=["reports"],
        parameters=WEEK_PARAMETERS,
        responses={200: DriversReportSerializer, 400: ValidationErrorSerializer},
    )
    def get(self, request):
        form = WindowForm(request.query_params, now=timezone.now())
        if not form.is_valid():
            return _form_errors(form)
        return Response(conversion_drivers(window=form.window, now=form.now).as_dict())


class SuggestionsView(LeadflowAPIView):
    permission_classes = [MayViewReports]

    @extend_schema(
        operation_id="reports_suggestions_retrieve",
        summary="Suggested MQL criteria for a target MQL→SQL band",
        description="MQL criteria (score threshold, minimum engagements, required kinds, fit and "
        "the fit rule's employees, industries and countries) whose MQL→SQL, replayed over the "
        "window's leads, lands between `low` and `high` percent: the front of SQLs kept against "
        "MQLs a week, most SQLs kept first, simplest first when two are close. An empty "
        "`candidates` comes with a `reason`.",
        tags=["reports"],
        parameters=WEEK_PARAMETERS + BAND_PARAMETERS,
        responses={200: SuggestionsSerializer, 400: ValidationErrorSerializer},
    )
    def get(self, request):
        form = SuggestionsForm(request.query_params, now=timezone.now())
        if not form.is_valid():
            return _form_errors(form)
        suggestions = suggestions_for_window(window=form.window, band=form.band, now=form.now)
        return Response(suggestions.as_dict())


# --- docs ----------------------------------------------------------------------------------


class APIDocsView(SpectacularSwaggerView):
    """Swagger UI, from the copy vendored under static/ (no CDN), for signed-in users.

    Anyone else is sent to the sign-in page (the schema itself answers 401).
    """

    permission_classes = [AllowAny]  # decided in get(): a browser is sent to sign in, not a 401

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _swagger_ui_resource(filename):
        return static(f"vendor/swagger-ui/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return static("vendor/swagger-ui/favicon-32x32.png")
