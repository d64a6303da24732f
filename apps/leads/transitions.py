"""What each lifecycle transition is: one declarative entry per transition (SPEC §2).

An entry holds everything the product knows about one transition: the form its
input is validated with, who may make it, what applying it does besides moving
the stage, and its words in the UI, the API and the history. The graph itself
(which stages it leaves from and lands on) is the django-fsm method of the same
name on ``Lead``; ``services.lead_transition`` is the one door that uses both.

Adding a transition, or renaming one in the UI, is an edit of its entry here
(and, for a new one, a method on the model). ``TRANSITIONS`` is in the order
the lead page shows the buttons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from apps.accounts.permissions import ActorRule, may_make
from apps.accounts.selectors import takes_new_leads
from apps.criteria import rules
from apps.criteria.models import SLAPolicy
from apps.leads import forms as inputs
from apps.leads.assignment import next_sales_rep
from apps.leads.models import Lead, Qualification

# --- what can go wrong ---------------------------------------------------------


class LifecycleError(Exception):
    """A transition that did not happen; the message is fit to show a user."""


class UnknownTransition(LifecycleError):
    pass


class TransitionForbidden(LifecycleError):
    pass


class TransitionNotAvailable(LifecycleError):
    def __init__(self, message: str, *, stage: str):
        super().__init__(message)
        self.stage = stage


class LeadChanged(TransitionNotAvailable):
    """Someone else changed the lead between the user's read and this write."""


class TransitionInvalid(LifecycleError):
    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {key: [str(m) for m in messages] for key, messages in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    def add_to(self, form) -> None:
        """Show its messages on ``form``: by their field where the form has it, else above it."""
        for key, messages in self.errors.items():
            form.add_error(key if key in form.fields else None, messages)


# --- what an entry is ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One transition being made: who makes it (None: the system), with what values, when."""

    actor: Any
    values: Mapping[str, Any]
    at: dt.datetime

    @property
    def note(self) -> str:
        return self.values.get("note") or ""


@dataclass(frozen=True)
class Applied:
    """What the history row records of a transition, besides its stages, actor and time."""

    reason: str = ""
    note: str = ""
    criteria: Any = None  # the MQL criteria version whose promotion this was
    clocks_started: bool = False  # the row keeps the SLA deadlines it set


@dataclass(frozen=True)
class Transition:
    name: str
    form: type[inputs.TransitionForm]
    who: ActorRule
    # Applies the transition to the locked lead: calls the django-fsm method of the same
    # name with what it needs, and returns what the history row records.
    apply: Callable[[Lead, Step], Applied]
    verb: str  # in messages: "You may not %(verb)s this lead."
    label: str  # its button
    event: str  # the history's name for it, as a past event
    done: str  # said once it is done; may use %(lead)s, %(reason)s and %(owner)s
    summary: str  # the API operation's summary (the schema is in English)
    event_type: str  # its event for webhooks and the event feed, e.g. "lead.accepted"
    danger: bool = False  # its button warns
    # Said before a transition that cannot be taken back, beside the button that confirms it.
    confirm: str = ""
    hands_over: bool = False  # gives the lead to a rep (or the pool) who must now accept it
    api_help: Mapping[str, str] = field(default_factory=dict)  # API field help beyond the form's

    @property
    def note_only(self) -> bool:
        """Is its only input an optional note (a bare button)?"""
        return self.form is inputs.NoteForm

    def may(self, user, lead) -> bool:
        """May ``user`` (None: the system) make it on ``lead``, the lead's stage aside?"""
        return may_make(user, lead, self.who)

    def is_possible(self, lead) -> bool:
        """Does the lead's stage allow it?"""
        return can_proceed(getattr(lead, self.name))

    def clean(self, data: Mapping[str, Any] | None, *, at: dt.datetime | None = None) -> dict:
        """``data`` validated with the entry's form: the values ``lead_transition`` takes."""
        form = self.form(data=data or {}, at=at)
        if not form.is_valid():
            raise TransitionInvalid(form.errors)
        return form.cleaned_data

    @property
    def reason_model(self):
        """The admin-edited list its reason is chosen from (reject, disqualify), or None."""
        reason = self.form.base_fields.get("reason")
        return reason.queryset.model if isinstance(reason, forms.ModelChoiceField) else None


# --- what each one does besides moving the stage ------------------------------


def _deadlines(at: dt.datetime):
    return SLAPolicy.load().deadlines(at)


def _promote(lead: Lead, step: Step) -> Applied:
    """By hand with a marketer's reason; by the system for the criteria version the lead meets."""
    criteria = step.values.get("criteria")
    if step.actor is None:
        if criteria is None:
            raise TransitionInvalid(
                {"criteria": [gettext("A system promotion names the criteria that made it.")]}
            )
        unmet = rules.mql_unmet(
            criteria.as_rule(),
            score=lead.score,
            engagement_count=lead.engagement_count,
            kinds=set(lead.kind_counts),
            fit=lead.fit,
        )
        if unmet:
            raise TransitionInvalid({"criteria": unmet})
        reason = gettext("MQL criteria v%(v)s met") % {"v": criteria.version}
    else:
        criteria, reason = None, step.values["reason"]
    lead.promote(
        at=step.at, owner=next_sales_rep(), criteria=criteria, deadlines=_deadlines(step.at)
    )
    return Applied(reason=reason, note=step.note, criteria=criteria, clocks_started=True)


def _accept(lead: Lead, step: Step) -> Applied:
    # A rep accepting from the unassigned pool becomes its owner.
    lead.accept(at=step.at, owner=lead.owner or step.actor)
    return Applied(note=step.note)


def _reject(lead: Lead, step: Step) -> Applied:
    reason = step.values["reason"]
    lead.reject(at=step.at, reason=reason)
    return Applied(reason=reason.code, note=step.note)


def _qualify(lead: Lead, step: Step) -> Applied:
    failures = inputs.bant_failures(step.values, today=timezone.localdate(step.at))
    if failures:
        # The criteria changed since the form judged the values (or no form did).
        raise TransitionInvalid({key: [message] for key, message in failures.items()})
    Qualification.objects.create(
        lead=lead,
        qualified_by=step.actor,
        qualified_at=step.at,
        **{key: step.values[key] for key in inputs.QualifyForm.base_fields},
    )
    lead.qualify(at=step.at)
    return Applied(note=step.values.get("notes") or "")


def _convert(lead: Lead, step: Step) -> Applied:
    lead.convert(
        at=step.at,
        amount=step.values["amount"],
        currency=step.values["currency"],
        expected_close_date=step.values["expected_close_date"],
    )
    return Applied(note=step.note)


def _win(lead: Lead, step: Step) -> Applied:
    lead.win(at=step.at)
    return Applied(note=step.note)


def _lose(lead: Lead, step: Step) -> Applied:
    lead.lose(at=step.at, reason=step.values["reason"])
    return Applied(reason=step.values["reason"], note=step.note)


def _recycle(lead: Lead, step: Step) -> Applied:
    lead.recycle(at=step.at)
    return Applied(note=step.note)


def _resubmit(lead: Lead, step: Step) -> Applied:
    """To the rep named, else back to the previous owner when they still take leads, else round-robin."""
    owner = step.values.get("owner")
    if owner is None:
        owner = lead.owner if takes_new_leads(lead.owner) else next_sales_rep()
    lead.resubmit(at=step.at, owner=owner, deadlines=_deadlines(step.at))
    return Applied(note=step.note, clocks_started=True)


def _disqualify(lead: Lead, step: Step) -> Applied:
    reason = step.values["reason"]
    lead.disqualify(at=step.at, reason=reason)
    return Applied(reason=reason.code, note=step.note)


def _reassign(lead: Lead, step: Step) -> Applied:
    """To the rep a manager names; the system's breach reassignment takes the next rep, fresh clocks."""
    owner = step.values.get("owner")
    if owner is None:
        # Next in the round-robin, never the rep who missed the deadline.
        previous = [lead.owner_id] if lead.owner_id else []
        owner = next_sales_rep(exclude_ids=previous)
        if owner is None:
            raise TransitionInvalid(
                {"owner": [gettext("No other sales rep takes leads right now.")]}
            )
    elif owner.pk == lead.owner_id:
        raise TransitionInvalid(
            {"owner": [gettext("The lead already belongs to %(user)s.") % {"user": owner}]}
        )
    restart = bool(step.values.get("restart_clocks"))
    lead.reassign(at=step.at, owner=owner, deadlines=_deadlines(step.at) if restart else None)
    return Applied(reason=step.values.get("reason") or "", note=step.note, clocks_started=restart)


# --- the entries ---------------------------------------------------------------

SALES_WORK = ActorRule(permission="leads.work_all_leads", own_permission="leads.work_own_leads")
REVIEW = ActorRule(permission="leads.review_rejected_lead")

TRANSITIONS: dict[str, Transition] = {
    entry.name: entry
    for entry in (
        Transition(
            name="accept",
            event_type="lead.accepted",
            form=inputs.NoteForm,
            who=replace(SALES_WORK, unclaimed_mql=True),
            apply=_accept,
            verb=_("accept"),
            label=_("Accept"),
            event=_("Accepted"),
            done=_("You accepted %(lead)s."),
            summary="Accept an MQL (its owner rep, a manager, or any rep for an unassigned MQL)",
        ),
        Transition(
            name="qualify",
            event_type="lead.qualified",
            form=inputs.QualifyForm,
            who=SALES_WORK,
            apply=_qualify,
            verb=_("qualify"),
            label=_("Qualify"),
            event=_("Qualified (BANT)"),
            done=_("%(lead)s is now an SQL."),
            summary="Qualify an accepted lead with BANT into an SQL (owner rep or manager)",
            api_help={
                "budget_currency": "Three-letter currency code; blank means the account currency."
            },
        ),
        Transition(
            name="convert",
            event_type="lead.converted",
            form=inputs.ConvertForm,
            who=SALES_WORK,
            apply=_convert,
            verb=_("convert"),
            label=_("Convert to opportunity"),
            event=_("Converted to opportunity"),
            done=_("%(lead)s is now an opportunity."),
            summary="Convert an SQL to an opportunity (owner rep or manager)",
            api_help={"currency": "Three-letter currency code; blank means the account currency."},
        ),
        Transition(
            name="win",
            event_type="lead.won",
            form=inputs.NoteForm,
            who=SALES_WORK,
            apply=_win,
            verb=_("win"),
            label=_("Close as won"),
            event=_("Won"),
            done=_("%(lead)s is closed as won."),
            summary="Close an opportunity as won (owner rep or manager)",
        ),
        Transition(
            name="lose",
            event_type="lead.lost",
            form=inputs.LoseForm,
            who=SALES_WORK,
            apply=_lose,
            verb=_("lose"),
            label=_("Close as lost"),
            event=_("Lost"),
            done=_("%(lead)s is closed as lost."),
            summary="Close an opportunity as lost, with a reason (owner rep or manager)",
            danger=True,
        ),
        Transition(
            name="reject",
            event_type="lead.rejected",
            form=inputs.RejectForm,
            who=SALES_WORK,
            apply=_reject,
            verb=_("reject"),
            label=_("Reject"),
            event=_("Rejected"),
            done=_("You rejected %(lead)s: %(reason)s."),
            summary="Reject an MQL or accepted lead with a reason (owner rep or manager)",
            danger=True,
            confirm=_(
                "The lead goes to marketing's review queue and leaves your work; "
                "only marketing can send it back."
            ),
            api_help={
                "reason": "A reject reason code (defaults: not_a_fit, no_budget, no_authority, "
                "no_need, bad_timing, bad_contact_data, duplicate, competitor, existing_customer, "
                "other)."
            },
        ),
        Transition(
            name="promote",
            event_type="lead.promoted",
            form=inputs.PromoteForm,
            who=ActorRule(permission="leads.promote_lead", system=True),
            apply=_promote,
            verb=_("promote"),
            label=_("Promote to MQL"),
            event=_("Promoted to MQL"),
            done=_("%(lead)s is now an MQL."),
            summary="Promote a new lead to MQL by hand (marketing; a reason is required)",
            hands_over=True,
        ),
        Transition(
            name="resubmit",
            event_type="lead.resubmitted",
            form=inputs.ResubmitForm,
            who=REVIEW,
            apply=_resubmit,
            verb=_("resubmit"),
            label=_("Resubmit"),
            event=_("Resubmitted"),
            done=_("%(lead)s is back in sales' inbox as an MQL."),
            summary="Dispute a rejection: the lead becomes an MQL again "
            "(marketing; a note is required)",
            api_help={
                "owner": "Username of the sales rep to take the lead; blank keeps the previous "
                "owner when they still take leads, else round-robin."
            },
            hands_over=True,
        ),
        Transition(
            name="recycle",
            event_type="lead.recycled",
            form=inputs.NoteForm,
            who=REVIEW,
            apply=_recycle,
            verb=_("recycle"),
            label=_("Recycle"),
            event=_("Recycled to nurture"),
            done=_("%(lead)s is back in nurture."),
            summary="Send a rejected lead back to nurture (marketing)",
            confirm=_(
                "Its score and engagement counts start again from zero; the rejection stays in "
                "its history."
            ),
        ),
        Transition(
            name="disqualify",
            event_type="lead.disqualified",
            form=inputs.DisqualifyForm,
            who=REVIEW,
            apply=_disqualify,
            verb=_("disqualify"),
            label=_("Disqualify"),
            event=_("Disqualified"),
            done=_("%(lead)s is disqualified: %(reason)s."),
            summary="Disqualify a new or rejected lead with a reason (marketing)",
            danger=True,
            confirm=_("A disqualified lead is out of the funnel for good."),
            api_help={
                "reason": "A disqualify reason code (defaults: spam, competitor, "
                "existing_customer, bad_data, duplicate)."
            },
        ),
        Transition(
            name="reassign",
            event_type="lead.reassigned",
            form=inputs.ReassignForm,
            who=ActorRule(permission="leads.reassign_lead", system=True),
            apply=_reassign,
            verb=_("reassign"),
            label=_("Reassign"),
            event=_("Reassigned"),
            done=_("%(lead)s now belongs to %(owner)s."),
            summary="Give the lead to another rep (managers)",
            api_help={"owner": "Username of the sales rep who takes the lead."},
            hands_over=True,
        ),
    )
}


#: The transitions that hand a lead to someone who must accept it (or to the unassigned pool).
HANDOVERS = frozenset(name for name, entry in TRANSITIONS.items() if entry.hands_over)


def transition_named(name: str) -> Transition:
    """The entry called ``name``; ``UnknownTransition`` (fit to show) when there is none."""
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise UnknownTransition(
            gettext("There is no transition called '%(name)s'.") % {"name": name}
        ) from None


def can_transition(user, lead, name: str) -> bool:
    """May ``user`` make transition ``name`` on ``lead``, the lead's stage aside?"""
    return TRANSITIONS[name].may(user, lead)


def available_transitions(user, lead) -> list[Transition]:
    """The transitions ``user`` may make on ``lead`` in its stage now, in button order."""
    return [
        entry for entry in TRANSITIONS.values() if entry.is_possible(lead) and entry.may(user, lead)
    ]
