"""``GET /api/v1/events/``: the event feed, for receivers that prefer to pull."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.permissions import can_read_event_feed
from apps.api.permissions import HasLeadflowRole
from apps.api.serializers import ErrorSerializer, ValidationErrorSerializer
from apps.api.views import LeadflowAPIView
from apps.webhooks import events as vocabulary
from apps.webhooks.selectors import FEED_MAX_LIMIT, EventFeedPage, event_feed_page
from apps.webhooks.services import event_envelope, events_sequence


class MayReadEventFeed(HasLeadflowRole):
    message = _("Only marketing and sales managers may read the event feed.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and can_read_event_feed(request.user)


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The event's stable id (also the `webhook-id` header).")
    type = serializers.ChoiceField(choices=list(vocabulary.EVENT_TYPES))
    timestamp = serializers.DateTimeField(help_text="When it happened (UTC).")
    data = serializers.DictField(
        help_text=(
            "By type: `lead.created` → `{lead}`; `lead.promoted`, `lead.accepted`, "
            "`lead.rejected`, `lead.resubmitted`, `lead.recycled`, `lead.disqualified`, "
            "`lead.qualified`, `lead.converted`, `lead.won`, `lead.lost`, `lead.reassigned` → "
            "`{lead, transition: {transition, from, to, actor, at, reason, note}, deadlines: "
            "{accept_due_at, process_due_at}}`; `sla.reminder`, `sla.breached` → `{lead, sla: "
            "{kind, clock, deadline, owner}, deadlines}`; `report.weekly` → `{report, url}` "
            "(the weekly report document). `lead` is the lead as the leads endpoints show it, "
            "as it stood when the event happened."
        )
    )


class EventFeedSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass as `after` to get what comes next (null while the feed is empty).",
    )
    has_more = serializers.BooleanField(help_text="More events follow already.")
    next = serializers.URLField(help_text="This query with `after` set to `cursor`.")


class EventFeedView(LeadflowAPIView):
    permission_classes = [MayReadEventFeed]

    @extend_schema(
        operation_id="events_list",
        summary="The event feed: events in order, after a cursor",
        description=(
            "Every event in one order that never changes: an event that appears later is never "
            "placed before one already read, so paging with `after` neither skips nor repeats, "
            "even while events are being written. Start without `after`, then pass the `cursor` "
            "of each answer. The same events, signed, go to the webhook endpoints. Marketing "
            "and sales managers (and superusers) may read it: it carries every lead."
        ),
        tags=["events"],
        parameters=[
            OpenApiParameter(
                "after", str, description="The id of the last event you have (the `cursor`)."
            ),
            OpenApiParameter(
                "type",
                str,
                many=True,
                enum=list(vocabulary.EVENT_TYPES),
                description="Only these types (repeat the parameter, or separate with commas).",
            ),
            OpenApiParameter(
                "limit", int, description=f"Events per answer, 1 to {FEED_MAX_LIMIT} (default 100)."
            ),
        ],
        responses={
            200: EventFeedSerializer,
            400: ValidationErrorSerializer,
            403: ErrorSerializer,
        },
    )
    def get(self, request):
        params = request.query_params
        types = [t for raw in params.getlist("type") for t in raw.split(",") if t]
        unknown = sorted(set(types) - set(vocabulary.EVENT_TYPES))
        if unknown:
            raise ValidationError(
                {"type": [_("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)}]}
            )
        events_sequence()
        try:
            page: EventFeedPage = event_feed_page(
                after=params.get("after") or None, types=types, limit=params.get("limit")
            )
        except ValueError as exc:
            raise ValidationError({exc.args[0]: [exc.args[1]]}) from None
        query = params.copy()
        if page.cursor:
            query["after"] = page.cursor
        return Response(
            {
                "results": [event_envelope(event) for event in page.events],
                "cursor": page.cursor,
                "has_more": page.has_more,
                "next": request.build_absolute_uri(request.path + "?" + query.urlencode()),
            }
        )
