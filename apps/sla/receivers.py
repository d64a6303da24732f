from contextlib import contextmanager

from django.dispatch import receiver

from apps.leads.services import transition_recorded
from apps.sla.models import NotificationKind
from apps.sla.services import notification_create

# Transitions that hand a lead to a rep who must now accept it.
HANDOVERS = {"promote", "resubmit", "reassign"}


@receiver(transition_recorded)
def tell_the_new_owner(sender, transition, **kwargs):
    """In the transition's own transaction, so the notification and its email commit with it."""
    if transition.transition in HANDOVERS and transition.owner_id and transition.to_stage == "mql":
        notification_create(
            recipient=transition.owner, kind=NotificationKind.NEW_MQL, lead=transition.lead
        )


@contextmanager
def new_mql_notifications_muted():
    """For replaying history (seed_demo): a lead handed over weeks ago is no news to anyone."""
    transition_recorded.disconnect(tell_the_new_owner)
    try:
        yield
    finally:
        transition_recorded.connect(tell_the_new_owner)
