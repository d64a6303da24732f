"""Who holds which role: the only code that looks users up by group (SPEC §1).

Everything else asks these selectors for people, or ``permissions`` for what a
user may do; a renamed group is then a change to ``roles`` and nothing more.
"""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.accounts.roles import MARKETING, SALES, SALES_MANAGER

BY_NAME = ("first_name", "last_name", "username")


def _active_in(*groups: str) -> QuerySet:
    users = get_user_model().objects.filter(is_active=True, groups__name__in=groups)
    return users.distinct() if len(groups) > 1 else users


def sales_reps() -> QuerySet:
    """Active sales reps, by name: the people a lead can be given to (resubmit, reassign)."""
    return _active_in(SALES).order_by(*BY_NAME)


def sales_reps_taking_leads() -> QuerySet:
    """Active reps who take new leads now: the round-robin's candidates (unordered)."""
    return _active_in(SALES).filter(accepts_new_leads=True)


def sales_managers() -> QuerySet:
    """Active sales managers: they receive SLA escalations."""
    return _active_in(SALES_MANAGER).order_by("pk")


def marketers() -> QuerySet:
    """Active members of marketing: they hear of every MQL sales rejects (issue 12)."""
    return _active_in(MARKETING).order_by("pk")


def sales_people() -> QuerySet:
    """Everyone who may own a lead, by name: active reps and managers."""
    return _active_in(SALES, SALES_MANAGER).order_by(*BY_NAME)


def report_recipients() -> QuerySet:
    """Active marketers and sales managers with an email address, each once: the weekly report's readers."""
    return _active_in(MARKETING, SALES_MANAGER).exclude(email="").order_by("pk")


def takes_new_leads(user) -> bool:
    """Is ``user`` an active rep whom the round-robin may give a lead right now?"""
    return bool(user) and sales_reps_taking_leads().filter(pk=user.pk).exists()
