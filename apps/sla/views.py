import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import ListView

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.permissions import (
    can_reassign,
    can_review_rejected_leads,
    can_work_any_lead,
    can_work_leads,
)
from apps.accounts.redirects import safe_next
from apps.leads.selectors import LIVE_VIEWS, latest_moves_for_user
from apps.leads.transitions import TRANSITIONS
from apps.sla.live import UNREAD_CAP, live_state
from apps.sla.models import Notification, NotificationKind
from apps.sla.services import notification_message
from leadflow.ids import is_row_id

#: At most this many shown lead ids per poll (a page shows up to 70 cards).
LIVE_SHOWN_MAX = 200


class NotificationListView(RoleRequiredMixin, ListView):
    """The signed-in user's notifications, newest first, grouped by day, filterable by kind."""

    template_name = "notifications/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 50

    def get(self, request, *args, **kwargs):
        self.kind = request.GET.get("kind") or ""
        self.kind_error = ""
        if self.kind and self.kind not in NotificationKind.values:
            # The page as usual (all kinds), the filter's error above it, and an honest 400.
            self.kind_error = _(
                "There is no kind of notification called “%(kind)s”: all notifications are "
                "shown. Choose a kind from the filters."
            ) % {"kind": self.kind[:40]}
            self.kind = ""
            response = super().get(request, *args, **kwargs)
            response.status_code = 400
            return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        notifications = self.request.user.notifications.select_related(
            "lead", "event", "event__owner", "transition", "transition__actor", "transition__owner"
        ).order_by("-created_at", "-id")
        return notifications.filter(kind=self.kind) if self.kind else notifications

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        context["days"] = notification_days(context["notifications"], now=now)
        relevant = notification_kinds_for(self.request.user)
        context["kinds"] = [
            {"value": value, "label": label, "current": value == self.kind}
            for value, label in NotificationKind.choices
            if value in relevant or value == self.kind
        ]
        context["kind"] = self.kind
        context["kind_error"] = self.kind_error
        return context


def notification_kinds_for(user) -> set[str]:
    """The kinds of notification ``user``'s roles can receive: the filter chips they are offered."""
    if user.is_superuser:
        return set(NotificationKind.values)
    kinds = set()
    if can_work_leads(user):  # reps and managers own leads
        kinds |= {
            NotificationKind.NEW_MQL,
            NotificationKind.REMINDER,
            NotificationKind.BREACH,
            NotificationKind.REASSIGNED_AWAY,
        }
    if can_work_any_lead(user) or can_reassign(user):
        kinds.add(NotificationKind.ESCALATION)
    if can_review_rejected_leads(user):
        kinds.add(NotificationKind.MQL_REJECTED)
    if user.is_staff and user.has_perm("webhooks.change_webhookendpoint"):
        kinds |= {NotificationKind.WEBHOOK_FAILING, NotificationKind.WEBHOOK_PAUSED}
    return {str(kind) for kind in kinds}


def notification_days(notifications, *, now) -> list[dict]:
    """The page's notifications grouped by day in the user's time zone, each with its words."""
    today = timezone.localdate(now)
    days: list[dict] = []
    for notification in notifications:
        local = timezone.localtime(notification.created_at)
        day = local.date()
        if not days or days[-1]["date"] != day:
            if day == today:
                label = _("Today")
            elif day == today - dt.timedelta(days=1):
                label = _("Yesterday")
            else:
                label = formats.date_format(day, "DATE_FORMAT")
            days.append({"date": day, "label": label, "items": []})
        age = now - notification.created_at
        days[-1]["items"].append(
            {
                "notification": notification,
                "message": notification_message(notification),
                "time": formats.time_format(local, "TIME_FORMAT"),
                "ago": _("just now")
                if age < dt.timedelta(minutes=1)
                else _("%(time)s ago") % {"time": timesince(notification.created_at, now)},
                "iso": local.isoformat(),
            }
        )
    return days


def _notification_read(user, pk) -> Notification:
    """``user``'s notification ``pk``, marked read if it was not; another user's is a 404."""
    notification = get_object_or_404(user.notifications, pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


class NotificationOpenView(RoleRequiredMixin, View):
    """Follow a notification to its lead (or its admin page), marking it read; another user's is a 404."""

    def get(self, request, pk):
        notification = _notification_read(request.user, pk)
        if notification.lead_id is None:  # about the system (a webhook endpoint), not a lead
            return redirect(notification.link or reverse("sla:list"))
        return redirect("leads:detail", notification.lead_id)


class NotificationReadView(RoleRequiredMixin, View):
    """Mark one notification read (POST); another user's notification is a 404."""

    def post(self, request, pk):
        _notification_read(request.user, pk)
        return redirect(safe_next(request, reverse("sla:list")))


class NotificationReadAllView(RoleRequiredMixin, View):
    def post(self, request):
        n = request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        messages.success(
            request,
            ngettext("%(n)s notification marked as read.", "%(n)s notifications marked as read.", n)
            % {"n": n},
        )
        return redirect("sla:list")


def _lead_ids(value: str) -> list[int] | None:
    """``value``'s comma-separated lead ids, or None when it is not such a list or too long."""
    ids = [part for part in value.split(",") if part]
    if not all(is_row_id(part) for part in ids) or len(ids) > LIVE_SHOWN_MAX:
        return None
    return [int(part) for part in ids]


class LiveMovesView(RoleRequiredMixin, View):
    """GET ``?since=<history id>&ids=<lead ids>``: what happened to the cards that left a live page.

    Answers JSON ``{"moves": {lead id: sentence}}``: each lead the user may still see gets
    the newest change since ``since``, "by you" when the user made it (say, in another tab);
    a lead they may no longer see gets a sentence that tells nothing about it.
    """

    def get(self, request):
        since, ids = request.GET.get("since", "0") or "0", _lead_ids(request.GET.get("ids", ""))
        if not is_row_id(since) or ids is None:
            return HttpResponseBadRequest(
                _("'since' must be a history id and 'ids' a comma-separated list of lead ids.")
            )
        latest = latest_moves_for_user(request.user, ids, since=int(since))
        moves = {}
        for pk in ids:
            row = latest.get(pk)
            if row is None:
                moves[pk] = _("This lead changed: it is no longer available to you.")
                continue
            entry = TRANSITIONS.get(row.transition)
            event = str(entry.event) if entry else row.transition
            if row.actor_id == request.user.pk:
                moves[pk] = _("This lead changed: %(event)s by you (in another tab or window).") % {
                    "event": event
                }
            else:
                moves[pk] = _("This lead changed: %(event)s by %(actor)s.") % {
                    "event": event,
                    "actor": str(row.actor) if row.actor_id else _("the system"),
                }
        response = JsonResponse({"moves": moves})
        response["Cache-Control"] = "no-store"
        return response


class LivePollView(RoleRequiredMixin, View):
    """GET ``?view=inbox|to_qualify|review&since=<history id>&shown=<ids>``: anything new?

    Answers JSON: ``latest`` (the next cursor), ``changed`` (the page should fetch its
    cards again), ``unread`` and ``unread_label`` (the bell). Without ``view``, only the bell.
    """

    def get(self, request):
        view = request.GET.get("view") or None
        if view is not None and view not in LIVE_VIEWS:
            return HttpResponseBadRequest(
                _("Unknown live view '%(view)s'; use one of: %(views)s.")
                % {"view": view[:40], "views": ", ".join(LIVE_VIEWS)}
            )
        if view is not None and not LIVE_VIEWS[view](request.user):
            raise PermissionDenied(_("You may not watch this page."))
        since, shown = request.GET.get("since", "0") or "0", request.GET.get("shown", "")
        ids = [part for part in shown.split(",") if part]
        if not is_row_id(since) or not all(is_row_id(part) for part in ids):
            return HttpResponseBadRequest(
                _("'since' must be a history id and 'shown' a comma-separated list of lead ids.")
            )
        if len(ids) > LIVE_SHOWN_MAX:
            return HttpResponseBadRequest(
                _("At most %(n)s shown leads per poll.") % {"n": LIVE_SHOWN_MAX}
            )
        state = live_state(
            request.user, view=view, since=int(since), shown=[int(part) for part in ids]
        )
        if state["unread"] >= UNREAD_CAP:
            state["unread_label"] = _("More than %(n)s unread notifications") % {
                "n": UNREAD_CAP - 1
            }
        else:
            state["unread_label"] = ngettext(
                "%(n)s unread notification", "%(n)s unread notifications", state["unread"]
            ) % {"n": state["unread"]}
        response = JsonResponse(state)
        response["Cache-Control"] = "no-store"
        return response
