"""What the SLA app does when a lead changes stage."""

from django.dispatch import receiver
from django.utils import timezone

from apps.leads.services import stage_changed, transition_recorded
from apps.leads.transitions import HANDOVERS
from apps.sla.models import NotificationKind
from apps.sla.services import (
    notification_create,
    reassigned_away_notification_create,
    rejection_notifications_create,
    reminders_of_a_former_owner_read,
    replayed_breaches_record,
)


@receiver(transition_recorded)
def tell_the_new_owner(sender, transition, replay=False, **kwargs):
    """In the transition's own transaction, so the notification and its email commit with it."""
    # A lead handed over in replayed history (demo data) is no news to anyone.
    if replay:
        return
    if transition.transition in HANDOVERS and transition.owner_id and transition.to_stage == "mql":
        notification_create(
            recipient=transition.owner, kind=NotificationKind.NEW_MQL, lead=transition.lead
        )


@receiver(transition_recorded)
def tell_marketing_of_a_rejection(sender, transition, replay=False, **kwargs):
    """Sales rejected an MQL: marketing hears of it in the app now, by email in the daily digest."""
    if not replay and transition.transition == "reject":
        rejection_notifications_create(transition=transition)


@receiver(transition_recorded)
def tell_the_previous_owner(sender, transition, replay=False, previous_owner_id=None, **kwargs):
    """A lead reassigned away (by a manager, or after a missed deadline): its former rep hears of it."""
    if not replay and transition.transition == "reassign":
        reassigned_away_notification_create(
            transition=transition, previous_owner_id=previous_owner_id
        )
        reminders_of_a_former_owner_read(transition=transition, previous_owner_id=previous_owner_id)


@receiver(stage_changed)
def settle_the_replayed_past(sender, transition, replay=False, **kwargs):
    if replay:
        replayed_breaches_record(lead_id=transition.lead_id, now=timezone.now())
