"""The web UI of SPEC §7: sales inbox, lead page, marketing review queue and lead list.

Views are thin: they find the lead through a selector scoped to the user (so
another rep's lead is a 404), validate the input with the transition's form,
call ``lead_transition`` (which decides whether the user may) and redirect. Accept, reject and the review actions post
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
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import ListView, TemplateView

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.permissions import (
    can_reassign,
    can_review_rejected_leads,
    can_see_all_leads,
    can_work_any_lead,
    can_work_leads,
    has_role,
)
from apps.accounts.redirects import safe_next
from apps.accounts.selectors import sales_people, sales_reps
from apps.criteria import rules
from apps.criteria.models import (
    DisqualifyReason,
    EngagementKind,
    FitRule,
    RejectReason,
    SQLCriteria,
)
from apps.leads.filters import DUE_SOON, LeadFilter, ReviewFilter
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
from apps.leads.services import lead_transition
from apps.leads.transitions import (
    HANDOVERS,
    TRANSITIONS,
    LeadChanged,
    TransitionForbidden,
    TransitionInvalid,
    TransitionNotAvailable,
    available_transitions,
    can_transition,
)

NO_ROLE = "Your account has no Leadflow role yet; ask an admin."
PAGE_SIZE = 50
POOL_SIZE = 20

# --- who may open which page ---------------------------------------------------


class PageMixin(RoleRequiredMixin):
    """Every page: signed in and in a role (the header's sections come from a context processor)."""


def lead_name(lead) -> str:
    name = lead.full_name or lead.email
    return f"{name} ({lead.company})" if lead.company else name


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
    said = exception.args[0] if exception is not None and exception.args else None
    if isinstance(said, Promise):
        message = str(said)  # a lazy translation: translated now, in the reader's language
    elif isinstance(said, str):
        message = translated_label(said)  # raised untranslated (see ``labels``)
    else:
        message = ""
    return render(request, template, {"message": message}, status=status)


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
        entry.name: {r.code: translated_label(r.label) for r in entry.reason_model.objects.all()}
        for entry in TRANSITIONS.values()
        if entry.reason_model is not None
    }
    history = [
        {
            "row": row,
            "event": TRANSITIONS[row.transition].event
            if row.transition in TRANSITIONS
            else row.transition,
            "from": Stage(row.from_stage).label
            if row.from_stage in Stage.values
            else row.from_stage,
            "to": Stage(row.to_stage).label if row.to_stage in Stage.values else row.to_stage,
            "reason": reason_labels.get(row.transition, {}).get(row.reason, row.reason),
            "handed_to": row.owner if row.transition in HANDOVERS else None,
        }
        for row in lead_history(lead)
    ]
    actions = []
    for entry in available_transitions(user, lead):
        is_bound = bound is not None and bound[0] == entry.name
        actions.append(
            {
                "name": entry.name,
                "label": entry.label,
                "form": bound[1] if is_bound else transition_form(entry),
                "simple": entry.note_only,
                "danger": entry.danger,
                "open": is_bound,
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
    """POST a transition's form: validated by it, through ``lead_transition``, then back where the user was.

    A stale page (someone else moved the lead) gets a message and the refreshed
    page; bad input re-renders the lead page with the errors by their fields.
    """

    def post(self, request, pk, name):
        entry = TRANSITIONS.get(name)
        if entry is None:
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
        back = safe_next(request, reverse("leads:detail", args=[lead.pk]))
        form = transition_form(entry, data=request.POST)
        if not form.is_valid():
            return self._invalid(request, lead, entry, form, back)
        try:
            lead_transition(
                lead=lead,
                name=name,
                actor=request.user,
                values=form.cleaned_data,
                expected_stage=expected,
            )
        except TransitionForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except (LeadChanged, TransitionNotAvailable) as exc:
            messages.warning(request, str(exc))
            return redirect(back)
        except TransitionInvalid as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            return self._invalid(request, lead, entry, form, back)
        messages.success(request, done_message(entry, lead, form.cleaned_data))
        return redirect(back)

    @staticmethod
    def _invalid(request, lead, entry, form, back):
        from_a_card = request.htmx and request.POST.get("origin") != "page"
        shown = {e.name for e in available_transitions(request.user, lead)}
        if from_a_card or entry.name not in shown:
            # A card in a list has no room for a full form, and a page without this action
            # has no form to show: say what was wrong above the list.
            problems = " ".join(" ".join(field_problems) for field_problems in form.errors.values())
            messages.error(
                request, gettext("Nothing was changed. %(problems)s") % {"problems": problems}
            )
            return redirect(back)
        context = lead_page_context(request, lead, bound=(entry.name, form))
        # htmx swaps only successful answers; a plain form post gets the honest 400.
        return render(
            request, "leads/lead_detail.html", context, status=200 if request.htmx else 400
        )


def transition_form(entry, *, data=None):
    """The entry's form as the pages show it: ids of its own, reasons and people by label."""
    return localize_choices(entry.form(data=data, auto_id=f"id_{entry.name}_%s"))


def done_message(entry, lead, values) -> str:
    """What the user is told once ``entry`` is done on ``lead`` (refreshed), in their language."""
    reason = values.get("reason") or ""
    return entry.done % {
        "lead": lead_name(lead),
        "reason": translated_label(reason.label) if hasattr(reason, "label") else reason,
        "owner": lead.owner or "—",
    }


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
