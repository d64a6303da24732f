from django.conf import settings
from django.utils.functional import SimpleLazyObject


def notifications(request):
    """The header's unread count: one query, and only on pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notification_count": SimpleLazyObject(
            lambda: user.notifications.filter(read_at__isnull=True).count()
        ),
        "live_poll_seconds": settings.LEADFLOW_LIVE_POLL_SECONDS,
    }
