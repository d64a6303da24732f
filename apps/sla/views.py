from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.redirects import safe_next
from apps.sla.services import notification_message


class NotificationListView(RoleRequiredMixin, ListView):
    """The signed-in user's notifications, unread first."""

    template_name = "notifications/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 30

    def get_queryset(self):
        return self.request.user.notifications.select_related(
            "lead", "event", "event__owner"
        ).order_by("read_at", "-created_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for notification in context["notifications"]:
            notification.message = notification_message(notification)
        return context


class NotificationReadView(RoleRequiredMixin, View):
    """Mark one notification read (POST); another user's notification is a 404."""

    def post(self, request, pk):
        notification = get_object_or_404(request.user.notifications, pk=pk)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        return redirect(safe_next(request, reverse("sla:list")))


class NotificationReadAllView(RoleRequiredMixin, View):
    def post(self, request):
        n = request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        messages.success(request, _("%(n)s notification(s) marked as read.") % {"n": n})
        return redirect("sla:list")
