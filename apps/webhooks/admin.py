from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.webhooks import events as vocabulary
from apps.webhooks.models import (
    EndpointKind,
    EndpointState,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.webhooks.safety import UnsafeURL, webhook_target
from apps.webhooks.services import (
    webhook_deliveries_resend,
    webhook_endpoint_resume,
    webhook_test_send,
)
from leadflow.admin import ReadOnlyAdmin, ReadOnlyInline


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=list(vocabulary.EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "The events sent to this endpoint. Left empty, a Slack endpoint gets new MQLs, "
            "missed SLA deadlines and the weekly report."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "kind", "event_types", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            webhook_target(url)
        except UnsafeURL as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("event_types"):
            if cleaned.get("kind") == EndpointKind.SLACK:
                cleaned["event_types"] = list(vocabulary.SLACK_DEFAULT_TYPES)
            else:
                self.add_error("event_types", _("Pick at least one event type."))
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "name",
        "url",
        "kind",
        "active",
        "state_badge",
        "failing_since",
        "last_success_at",
    ]
    list_filter = ["kind", "active", "state"]
    search_fields = ["name", "url"]
    readonly_fields = ["state", "failing_since", "last_success_at", "created_at"]
    actions = ["send_test_event", "resume"]

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "kind", "event_types", "active"]
        return fields + (self.readonly_fields if obj is not None else [])

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj):
        if obj.state == EndpointState.HEALTHY:
            return obj.get_state_display()
        return format_html("<strong>{}</strong>", obj.get_state_display())

    def has_resend_permission(self, request):
        return request.user.has_perm("webhooks.resend_webhookdelivery")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # The only time the secret is shown: receivers need it to verify signatures.
            self.message_user(
                request,
                format_html(
                    "{} <code>{}</code>",
                    _("Signing secret of %(name)s (copy it now, it is not shown again):")
                    % {"name": obj.name},
                    obj.secret,
                ),
                messages.WARNING,
            )

    @admin.action(permissions=["resend"], description=_("Send a test event"))
    def send_test_event(self, request, queryset):
        endpoints = list(queryset.filter(active=True))
        if endpoints:
            webhook_test_send(endpoints=endpoints)
        self.message_user(
            request,
            ngettext(
                "A test event is on its way to %(n)s endpoint; see the deliveries.",
                "A test event is on its way to %(n)s endpoints; see the deliveries.",
                len(endpoints),
            )
            % {"n": len(endpoints)},
            messages.SUCCESS,
        )

    @admin.action(
        permissions=["resend"], description=_("Resume and send what the endpoints missed")
    )
    def resume(self, request, queryset):
        queued = sum(webhook_endpoint_resume(endpoint=endpoint) for endpoint in queryset)
        self.message_user(
            request,
            _("Resumed; %(n)s deliveries queued again.") % {"n": queued},
            messages.SUCCESS,
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["at", "ok", "status_code", "latency_ms", "response_excerpt", "error"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: one row per event and endpoint, with every attempt."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "last_latency_ms",
    ]
    list_filter = ["endpoint", "message__status", "event__type"]
    list_select_related = ["event", "endpoint", "message"]
    search_fields = ["event__public_id"]
    fields = ["event", "endpoint", "status", "attempt_count", "last_error", "created_at"]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    def has_resend_permission(self, request):
        return request.user.has_perm("webhooks.resend_webhookdelivery")

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description=_("status"), ordering="message__status")
    def status(self, obj):
        return obj.message.get_status_display() if obj.message else "—"

    @admin.display(description=_("attempts"))
    def attempt_count(self, obj):
        return obj.message.attempts if obj.message else 0

    @admin.display(description=_("last error"))
    def last_error(self, obj):
        return obj.message.last_error if obj.message else ""

    @admin.action(permissions=["resend"], description=_("Resend the selected deliveries"))
    def resend(self, request, queryset):
        n = webhook_deliveries_resend(deliveries=list(queryset))
        self.message_user(
            request,
            ngettext(
                "%(n)s delivery queued to be sent again.",
                "%(n)s deliveries queued to be sent again.",
                n,
            )
            % {"n": n},
            messages.SUCCESS,
        )
        if len(queryset) > n:
            self.message_user(
                request,
                _("Only failed or skipped deliveries are sent again; %(n)s left as they are.")
                % {"n": len(queryset) - n},
                messages.WARNING,
            )


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "type", "public_id", "lead", "sequence"]
    list_filter = ["type"]
    search_fields = ["public_id"]
    fields = ["public_id", "type", "occurred_at", "lead", "sequence", "body"]
    readonly_fields = fields
    raw_id_fields = ["lead"]
