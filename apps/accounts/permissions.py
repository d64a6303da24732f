"""Every access decision of Leadflow, as predicates on (user, lead).

Views, the API and the admin ask these functions; nothing else inspects
permissions. Predicates are about *who* may act on *which* lead; whether the
lead's stage allows a transition right now is django-fsm's business. Each
transition declares its ``ActorRule`` in ``apps.leads.transitions``, and
``may_make`` reads it.
"""

from dataclasses import dataclass

from django.db.models import Q


@dataclass(frozen=True)
class ActorRule:
    """Who may make a transition.

    ``permission`` lets a user make it on any lead they can see;
    ``own_permission``, only on the leads they own (and, with ``unclaimed_mql``,
    on an MQL nobody owns yet, which becomes theirs); ``system`` lets the
    system make it with no user behind it.
    """

    permission: str
    own_permission: str | None = None
    unclaimed_mql: bool = False
    system: bool = False


def _has_perm(user, perm: str) -> bool:
    """``user.has_perm(perm)``, asked of the auth backends once per user object.

    A list page asks the same few permissions for each of its 70 cards; Django keeps the
    permission sets on the user object already (``_perm_cache``), this keeps the answers.
    """
    answers = user.__dict__.setdefault("_leadflow_perm_answers", {})
    key = (perm, user.is_active, user.is_superuser)
    if key not in answers:
        answers[key] = user.has_perm(perm)
    return answers[key]


def has_role(user) -> bool:
    """True for a signed-in user in at least one product role (or a superuser).

    Users outside the groups see nothing but the login page.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or any(
        _has_perm(user, perm)
        for perm in ("leads.view_all_leads", "leads.work_own_leads", "leads.promote_lead")
    )


def can_work_leads(user) -> bool:
    """Sales reps and managers: they have an inbox."""
    return has_role(user) and _has_perm(user, "leads.work_own_leads")


def can_review_rejected_leads(user) -> bool:
    """Marketing: they work the review queue of rejected MQLs."""
    return has_role(user) and _has_perm(user, "leads.review_rejected_lead")


def can_see_all_leads(user) -> bool:
    return _has_perm(user, "leads.view_all_leads")


def can_read_event_feed(user) -> bool:
    """Marketing, sales managers and superusers: the event feed carries every lead."""
    return has_role(user) and can_see_all_leads(user)


def can_work_any_lead(user) -> bool:
    """Sales managers act as the owner on every lead."""
    return _has_perm(user, "leads.work_all_leads")


def can_reassign(user) -> bool:
    return _has_perm(user, "leads.reassign_lead")


def can_view_reports(user) -> bool:
    return _has_perm(user, "leads.view_reports")


def can_draft_mql_criteria(user) -> bool:
    """Admins who may write MQL criteria in Django admin may turn a suggestion into a draft."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and _has_perm(user, "criteria.add_mqlcriteria")
        and _has_perm(user, "criteria.change_mqlcriteria")
    )


def can_record_engagements(user) -> bool:
    return _has_perm(user, "leads.add_engagement")


def can_create_leads(user) -> bool:
    return _has_perm(user, "leads.add_lead")


def is_unclaimed_mql(lead) -> bool:
    return lead.stage == "mql" and lead.owner_id is None


def can_view_lead(user, lead) -> bool:
    """Marketing and managers see every lead; a rep sees their own and the MQL pool."""
    if not has_role(user):
        return False
    if can_see_all_leads(user):
        return True
    if _has_perm(user, "leads.work_own_leads") and lead.owner_id == user.pk:
        return True
    return _has_perm(user, "leads.view_mql_pool") and is_unclaimed_mql(lead)


def visible_leads_filter(user) -> Q | None:
    """The queryset filter matching ``can_view_lead``; None means every lead."""
    if can_see_all_leads(user):
        return None
    condition = Q(pk__in=[])
    if _has_perm(user, "leads.work_own_leads"):
        condition |= Q(owner=user)
    if _has_perm(user, "leads.view_mql_pool"):
        condition |= Q(stage="mql", owner__isnull=True)
    return condition


def may_make(user, lead, rule: ActorRule) -> bool:
    """May ``user`` (None: the system) make a transition governed by ``rule`` on ``lead``, stage aside?

    Owner reps and managers make the sales transitions; a rep may also accept
    an unclaimed MQL from the pool. Marketers promote by hand and review
    rejected MQLs. Only managers reassign.
    """
    if user is None:
        return rule.system
    if not has_role(user):
        return False
    if _has_perm(user, rule.permission):
        return True
    if rule.own_permission is None or not _has_perm(user, rule.own_permission):
        return False
    return lead.owner_id == user.pk or (rule.unclaimed_mql and is_unclaimed_mql(lead))
