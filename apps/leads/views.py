"""The web UI of SPEC §7: sales inbox, lead page, marketing review queue and lead list.

Views are thin: they find the lead through a selector scoped to the user (so
another rep's lead is a 404), ask ``permissions`` whether the user may act, call
``lead_transition`` and redirect. Accept, reject and the review actions post
plain forms; with JavaScript on, htmx posts the same forms, follows the same
redirect and swaps in the refreshed part of the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import ListView, TemplateView

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.permissions import (
    can_reassign,
    can_review_rejected_leads,
    can_see_all_leads,
    can_transition,
    can_work_any_lead,
    can_work_leads,
    has_role,
)
from apps.criteria import rules
from apps.criteria.models import (
    DisqualifyReason,
    EngagementKind,
    FitRule,
    RejectReason,
    SQLCriteria,
)
from apps.leads.filters import DUE_SOON, LeadFilter, ReviewFilter, sales_people, sales_reps
from apps.leads.forms import TRANSITION_FORMS
from apps.leads.labels import translated_label
from apps.leads.models import Stage
from apps.leads.selectors import (
    inbox_for_user,
    latest_qualification,
    lead_for_user,
    lead_history,
    lead_score_breakdown,
    lead_timeline,
    leads_for_user,
    mql_pool_for_user,
    rejected_for_review,
    rejection_counts,
    taken_from_the_pool,
)
from apps.leads.services import (
    LeadChanged,
    TransitionForbidden,
    TransitionInvalid,
    TransitionNotAvailable,
    lead_transition,
)

NO_ROLE = "Your account has no Leadflow role yet; ask an admin."
PAGE_SIZE = 50
POOL_SIZE = 20

# What each transition's button says, in the order the lead page shows them.
TRANSITION_LABELS = {
    "accept": _("Accept"),
    "qualify": _("Qualify"),
    "convert": _("Convert to opportunity"),
    "win": _("Close as won"),
    "lose": _("Close as lost"),
    "reject": _("Reject"),
    "promote": _("Promote to MQL"),
    "resubmit": _("Resubmit"),
    "recycle": _("Recycle"),
    "disqualify": _("Disqualify"),
    "reassign": _("Reassign"),
}
# The history's name for each transition, as a past event.
TRANSITION_EVENTS = {
    "promote": _("Promoted to MQL"),
    "accept": _("Accepted"),
    "reject": _("Rejected"),
    "qualify": _("Qualified (BANT)"),
    "convert": _("Converted to opportunity"),
    "win": _("Won"),
    "lose": _("Lost"),
    "recycle": _("Recycled to nurture"),
    "resubmit": _("Resubmitted"),
    "disqualify": _("Disqualified"),
    "reassign": _("Reassigned"),
}
DONE_MESSAGES = {
    "accept": _("You accepted %(lead)s."),
    "reject": _("You rejected %(lead)s: %(reason)s."),
    "qualify": _("%(lead)s is now an SQL."),
    "convert": _("%(lead)s is now an opportunity."),
    "win": _("%(lead)s is closed as won."),
    "lose": _("%(lead)s is closed as lost."),
    "promote": _("%(lead)s is now an MQL."),
    "resubmit": _("%(lead)s is back in sales' inbox as an MQL."),
    "recycle": _("%(lead)s is back in nurture."),
    "disqualify": _("%(lead)s is disqualified: %(reason)s."),
    "reassign": _("%(lead)s now belongs to %(owner)s."),
}
# Transitions whose only input is an optional note get a bare button.
NOTE_ONLY = {"accept", "win", "recycle"}
DANGER = {"reject", "lose", "disqualify"}


# --- who may open which page ---------------------------------------------------


class PageMixin(RoleRequiredMixin):
    """Every page: signed in and in a role (the header's sections come from a context processor)."""


def lead_name(lead) -> str:
    name = lead.full_name or lead.email
    return f"{name} ({lead.company})" if lead.company else name


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def deadline_state(deadline, now) -> str:
    if deadline is None:
        return "none"
    if deadline <= now:
        return "overdue"
    if deadline <= now + DUE_SOON:
        return "due_soon"
    return "on_time"


def localize_choices(form):
    """Show admin-edited reasons and users in the user's language / by name."""
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            continue
        if queryset.model in (RejectReason, DisqualifyReason):
            field.label_from_instance = lambda obj: translated_label(obj.label)
        else:
            field.label_from_instance = str
    return form


# --- landing, error pages ------------------------------------------------------


@login_required
def home(request):
    """Each role lands where its work is: reps and managers on the inbox, marketing on the review queue."""
    user = request.user
    if not has_role(user):
        raise PermissionDenied(NO_ROLE)
    if can_work_leads(user):
        return redirect("leads:inbox")
    if can_review_rejected_leads(user):
        return redirect("leads:review")
    return redirect("leads:list")


def _error_page(request, template, status, exception):
    message = ""
    if exception is not None and exception.args and isinstance(exception.args[0], str):
        message = translated_label(exception.args[0])
    context = {"message": message}
    return render(request, template, context, status=status)


def permission_denied(request, exception=None):
    return _error_page(request, "403.html", 403, exception)


def page_not_found(request, exception=None):
    return _error_page(request, "404.html", 404, exception)


# --- sales inbox -----------------------------------------------------------------


class InboxView(PageMixin, TemplateView):
    """MQLs awaiting acceptance by deadline, with Accept and Reject; managers see the team."""

    template_name = "leads/inbox.html"

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and has_role(request.user)
            and not can_work_leads(request.user)
        ):
            raise PermissionDenied(_("The inbox is for sales reps and managers."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        team_view = can_work_any_lead(user)
        rep = None
        people = list(sales_people()) if team_view else []
        if team_view and self.request.GET.get("rep"):
            rep = next((p for p in people if p.username == self.request.GET["rep"]), None)
        page = Paginator(inbox_for_user(user, rep=rep), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        pool = mql_pool_for_user(user)
        pool_leads = list(pool[:POOL_SIZE])
        reassigning = can_reassign(user)
        context.update(
            team_view=team_view,
            people=people,
            rep=rep,
            page_obj=page,
            cards=[self._card(lead, user, now, reassigning) for lead in page],
            pool_cards=[self._card(lead, user, now, reassigning) for lead in pool_leads],
            pool_total=pool.count(),
            reject_reasons=[
                (r.code, translated_label(r.label))
                for r in RejectReason.objects.filter(is_active=True)
            ],
            reassign_to=list(sales_reps()) if reassigning else [],
        )
        return context

    @staticmethod
    def _card(lead, user, now, reassigning):
        return {
            "lead": lead,
            "state": deadline_state(lead.accept_due_at, now),
            "can_accept": can_transition(user, lead, "accept"),
            "can_reject": can_transition(user, lead, "reject"),
            "can_reassign": reassigning,
        }


# --- the lead page -----------------------------------------------------------------


def lead_page_context(request, lead, *, bound=None) -> dict:
    """Everything the lead page shows; ``bound`` is (transition name, form with errors)."""
    user = request.user
    fit_rule = FitRule.load().as_rule()
    verdict = rules.evaluate_fit(
        fit_rule, employees=lead.employees, industry=lead.industry, country=lead.country
    )
    # The stored reason was written in whatever language the request that scored it used;
    # when today's rule gives the same verdict, say it again in the reader's language.
    fit_reason = verdict.reason if verdict.verdict == lead.fit else lead.fit_reason

    breakdown = [
        {
            **row,
            "label": EngagementKind(row["kind"]).label
            if row["kind"] in EngagementKind.values
            else row["kind"],
        }
        for row in lead_score_breakdown(lead)
    ]
    engagements, engagement_total = lead_timeline(lead)
    reason_labels = {
        "reject": {r.code: translated_label(r.label) for r in RejectReason.objects.all()},
        "disqualify": {r.code: translated_label(r.label) for r in DisqualifyReason.objects.all()},
    }
    history = [
        {
            "row": row,
            "event": TRANSITION_EVENTS.get(row.transition, row.transition),
            "from": Stage(row.from_stage).label
            if row.from_stage in Stage.values
            else row.from_stage,
            "to": Stage(row.to_stage).label if row.to_stage in Stage.values else row.to_stage,
            "reason": reason_labels.get(row.transition, {}).get(row.reason, row.reason),
        }
        for row in lead_history(lead)
    ]
    available = {t.name for t in lead.get_available_user_stage_transitions(user)}
    actions = []
    for name in TRANSITION_LABELS:
        if name not in available:
            continue
        if bound is not None and bound[0] == name:
            form = bound[1]
        else:
            form = localize_choices(TRANSITION_FORMS[name](auto_id=f"id_{name}_%s"))
        actions.append(
            {
                "name": name,
                "label": TRANSITION_LABELS[name],
                "form": form,
                "simple": name in NOTE_ONLY,
                "danger": name in DANGER,
                "open": bound is not None and bound[0] == name,
            }
        )
    bant = next((a for a in actions if a["name"] == "qualify"), None)
    return {
        "lead": lead,
        "fit_reason": fit_reason,
        "breakdown": breakdown,
        "breakdown_total": sum(row["points"] or 0 for row in breakdown),
        "engagements": engagements,
        "engagement_total": engagement_total,
        "history": history,
        "qualification": latest_qualification(lead),
        "actions": [a for a in actions if a["name"] != "qualify"],
        "bant": bant,
        "bant_rule": SQLCriteria.load() if bant else None,
        "sla_state": deadline_state(
            lead.accept_due_at
            if lead.stage == Stage.MQL
            else lead.process_due_at
            if lead.stage == Stage.ACCEPTED
            else None,
            timezone.now(),
        ),
        "reject_reason_label": reason_labels["reject"].get(lead.last_reject_reason_id, ""),
        "disqualify_reason_label": reason_labels["disqualify"].get(lead.disqualify_reason_id, ""),
    }


class LeadDetailView(PageMixin, View):
    """Profile, fit, score breakdown, timeline, history and the user's transitions as buttons."""

    def get(self, request, pk):
        lead = lead_for_user(request.user, pk)
        return render(request, "leads/lead_detail.html", lead_page_context(request, lead))


class LeadTransitionView(PageMixin, View):
    """POST a transition's form: through ``lead_transition``, then back where the user was.

    A stale page (someone else moved the lead) gets a message and the refreshed
    page; bad input re-renders the lead page with the errors by their fields.
    """

    def post(self, request, pk, name):
        if name not in TRANSITION_FORMS:
            raise Http404("No such transition.")
        expected = request.POST.get("expected_stage") or None
        try:
            lead = lead_for_user(request.user, pk)
        except Http404:
            if expected == Stage.MQL and can_work_leads(request.user) and taken_from_the_pool(pk):
                # Two reps clicked Accept on one pool MQL: the slower one is told, not shown a 404.
                messages.warning(
                    request, gettext("This lead has changed: another rep took it from the pool.")
                )
                return redirect(safe_next(request, reverse("leads:inbox")))
            raise
        if not can_transition(request.user, lead, name):
            raise PermissionDenied(
                _("You may not %(action)s this lead.") % {"action": TRANSITION_LABELS[name]}
            )
        back = safe_next(request, reverse("leads:detail", args=[lead.pk]))
        try:
            row = lead_transition(
                lead=lead, name=name, actor=request.user, data=request.POST, expected_stage=expected
            )
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except (LeadChanged, TransitionNotAvailable) as exc:
            messages.warning(request, str(exc))
            return redirect(back)
        except TransitionInvalid as exc:
            return self._invalid(request, lead, name, exc, back)
        messages.success(request, self._done_message(name, lead, row))
        return redirect(back)

    @staticmethod
    def _done_message(name, lead, row) -> str:
        reason = row.reason
        if name == "reject":
            reason = translated_label(
                RejectReason.objects.filter(code=row.reason).values_list("label", flat=True).first()
                or reason
            )
        elif name == "disqualify":
            reason = translated_label(
                DisqualifyReason.objects.filter(code=row.reason)
                .values_list("label", flat=True)
                .first()
                or reason
            )
        return DONE_MESSAGES[name] % {
            "lead": lead_name(lead),
            "reason": reason,
            "owner": lead.owner or "—",
        }

    @staticmethod
    def _invalid(request, lead, name, exc, back):
        if request.htmx and request.POST.get("origin") != "page":
            # A card in a list has no room for a full form: say what was wrong above the list.
            problems = " ".join(" ".join(messages_) for messages_ in exc.errors.values())
            messages.error(
                request, gettext("Nothing was changed. %(problems)s") % {"problems": problems}
            )
            return redirect(back)
        form = localize_choices(TRANSITION_FORMS[name](data=request.POST, auto_id=f"id_{name}_%s"))
        form.is_valid()
        for field, problems in exc.errors.items():
            for problem in problems:
                if problem not in form.errors.get(field if field in form.fields else "__all__", []):
                    form.add_error(field if field in form.fields else None, problem)
        context = lead_page_context(request, lead, bound=(name, form))
        # htmx swaps only successful answers; a plain form post gets the honest 400.
        return render(
            request, "leads/lead_detail.html", context, status=200 if request.htmx else 400
        )


# --- marketing review queue ----------------------------------------------------------


class ReviewQueueView(PageMixin, TemplateView):
    """Rejected MQLs, filterable, with Recycle, Resubmit and Disqualify and counts by reason."""

    template_name = "leads/review_queue.html"

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and has_role(request.user)
            and not can_review_rejected_leads(request.user)
        ):
            raise PermissionDenied(_("The review queue is for marketing."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filterset = ReviewFilter(self.request.GET or None, queryset=rejected_for_review(user))
        localize_choices(filterset.form)
        leads = filterset.qs
        page = Paginator(leads, PAGE_SIZE).get_page(self.request.GET.get("page"))
        reasons = {r.code: translated_label(r.label) for r in RejectReason.objects.all()}
        counts = [
            {"code": code, "label": reasons.get(code, code or "—"), "count": n}
            for code, n in rejection_counts(leads)
        ]
        rows = []
        for lead in page:
            last = lead.rejections[-1] if lead.rejections else None
            rows.append(
                {
                    "lead": lead,
                    "rejection": last,
                    "reason": reasons.get(
                        lead.last_reject_reason_id, lead.last_reject_reason_id or ""
                    ),
                    "can_recycle": can_transition(user, lead, "recycle"),
                    "can_resubmit": can_transition(user, lead, "resubmit"),
                    "can_disqualify": can_transition(user, lead, "disqualify"),
                }
            )
        context.update(
            filter=filterset,
            page_obj=page,
            rows=rows,
            counts=counts,
            counted=sum(c["count"] for c in counts),
            max_count=max((c["count"] for c in counts), default=1),
            disqualify_reasons=[
                (r.code, translated_label(r.label))
                for r in DisqualifyReason.objects.filter(is_active=True)
            ],
            reps=list(sales_reps()),
        )
        return context


# --- lead list -------------------------------------------------------------------------


class LeadListView(PageMixin, ListView):
    """Every lead the user may see: filters, search, sort and pages."""

    template_name = "leads/lead_list.html"
    context_object_name = "leads"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.filterset = LeadFilter(
            self.request.GET or None, queryset=leads_for_user(self.request.user)
        )
        localize_choices(self.filterset.form)
        if not can_see_all_leads(self.request.user):
            # A rep sees only their own leads and the pool: an owner filter would only offer emptiness.
            self.filterset.form.fields.pop("owner", None)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        context["filter"] = self.filterset
        context["sort"] = self.request.GET.get("sort", "")
        context["rows"] = [
            {
                "lead": lead,
                "sla": deadline_state(
                    lead.accept_due_at
                    if lead.stage == Stage.MQL
                    else lead.process_due_at
                    if lead.stage == Stage.ACCEPTED
                    else None,
                    now,
                ),
                "deadline": lead.accept_due_at
                if lead.stage == Stage.MQL
                else lead.process_due_at
                if lead.stage == Stage.ACCEPTED
                else None,
            }
            for lead in context["leads"]
        ]
        context["filtered"] = any(
            v for k, v in self.request.GET.items() if k not in ("page", "sort")
        )
        return context
