"""The web UI of SPEC §7: sales inbox, lead page, marketing review queue and lead list.

Views are thin: they find the lead through a selector scoped to the user (so
another rep's lead is a 404), validate the input with the transition's form,
call ``lead_transition`` (which decides whether the user may) and redirect. Accept, reject and the review actions post
plain forms; with JavaScript on, htmx posts the same forms, follows the same
redirect and swaps in the refreshed part of the page.
"""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import ListView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.mixins import RoleRequiredMixin
from apps.accounts.permissions import (
    can_create_leads,
    can_reassign,
    can_review_rejected_leads,
    can_see_all_leads,
    can_work_any_lead,
    can_work_leads,
    has_role,
)
from apps.accounts.redirects import safe_next
from apps.accounts.selectors import sales_reps
from apps.criteria import rules
from apps.criteria.models import (
    DisqualifyReason,
    EngagementKind,
    FitRule,
    LeadSource,
    RejectReason,
    SQLCriteria,
)
from apps.leads.filters import LeadFilter, ReviewFilter, deadline_state
from apps.leads.labels import history_reason, transition_reason_labels, translated_label
from apps.leads.models import Fit, Lead, Stage
from apps.leads.pagination import COUNT_CAP, CountedPaginator, ResultCount, count_results
from apps.leads.selectors import (
    inbox_for_user,
    latest_qualification,
    latest_transition_id,
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
from leadflow.ids import is_row_id

NO_ROLE = "Your account has no Leadflow role yet; ask an admin."
PAGE_SIZE = 50
POOL_SIZE = 20
# What an inbox card reads of a lead (the other columns are not fetched).
CARD_FIELDS = (
    *("id", "stage", "owner", "first_name", "last_name", "email", "title", "company"),
    *("employees", "industry", "country", "score", "fit", "fit_reason", "accept_due_at"),
    *("mql_at", "source__code", "source__label"),
)
# The inbox counts its MQLs exactly up to here (a partial index holds only MQLs), then says "N+".
INBOX_COUNT_CAP = 10_000

# --- who may open which page ---------------------------------------------------


class PageMixin(RoleRequiredMixin):
    """Every page: signed in and in a role (the header's sections come from a context processor)."""


class LivePageMixin(PageMixin):
    """A list the browser polls for news: ``live_since`` is where its poll starts."""

    def get_context_data(self, **kwargs):
        # Read before the cards: a change made while they are read is then news to the poll.
        return super().get_context_data(live_since=latest_transition_id(), **kwargs)


def lead_name(lead) -> str:
    name = lead.full_name or lead.email
    return f"{name} ({lead.company})" if lead.company else name


def opened_form(request, names) -> tuple[str, int] | None:
    """(form name, lead id) of the shared pop-over form a page shows open without JavaScript.

    A list renders each pop-over form (reject, reassign, …) once, not once per card:
    with JavaScript the card that is clicked borrows it; without, the card's link asks
    for ``?open=<name>&lead=<id>`` and the page is rendered with the form in that card.
    """
    name, pk = request.GET.get("open", ""), request.GET.get("lead", "")
    if name in names and is_row_id(pk):
        return name, int(pk)
    return None


def page_path(request) -> str:
    """Where a form on this page sends the user back to: the page, without an open pop-over."""
    query = request.GET.copy()
    for key in ("open", "lead"):
        query.pop(key, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


class CardWords:
    """Stage, fit and source names in the active language, each translated once a page."""

    def __init__(self):
        self._fits = {value: str(label) for value, label in Fit.choices}
        self._stages = {value: str(label) for value, label in Stage.choices}
        self._labels: dict[str, str] = {}
        self._days: dict = {}

    def day(self, moment) -> str:
        """The local day of ``moment`` as ``|date:"DATE_FORMAT"`` writes it, each day written once."""
        day = timezone.localdate(moment)
        if day not in self._days:
            self._days[day] = formats.date_format(day, "DATE_FORMAT")
        return self._days[day]

    def fit(self, value: str) -> str:
        return self._fits.get(value, value)

    def stage(self, value: str) -> str:
        return self._stages.get(value, value)

    fit_rule = None

    def fit_reason(self, lead) -> str:
        """The fit verdict's reason in the reader's language (the stored one is in the scorer's)."""
        if self.fit_rule is None:
            return lead.fit_reason
        verdict = rules.evaluate_fit(
            self.fit_rule, employees=lead.employees, industry=lead.industry, country=lead.country
        )
        return verdict.reason if verdict.verdict == lead.fit else lead.fit_reason

    def label(self, label: str) -> str:
        if label not in self._labels:
            self._labels[label] = gettext(label)
        return self._labels[label]

    def facts(self, lead) -> str:
        """A card's one line about the company: "220 employees · software · JP"."""
        facts = [lead.industry, lead.country]
        if lead.employees:
            facts.insert(
                0,
                ngettext("%(n)s employee", "%(n)s employees", lead.employees)
                % {"n": formats.localize(lead.employees)},
            )
        return " · ".join(fact for fact in facts if fact)


class LeadLinks:
    """The lead page, transition and open-pop-over links of many leads, each pattern reversed once.

    A list of 70 cards needs hundreds of links; reversing each one is a good share of
    the page's time.
    """

    _PLACEHOLDER = "987654321"

    def __init__(self, request):
        self._patterns: dict[tuple, str] = {}
        back = page_path(request)
        self._open_prefix = back + ("&" if "?" in back else "?")

    def _link(self, name: str, pk: int, *args) -> str:
        key = (name, *args)
        if key not in self._patterns:
            self._patterns[key] = reverse(name, args=[int(self._PLACEHOLDER), *args])
        return self._patterns[key].replace(self._PLACEHOLDER, str(pk), 1)

    def detail(self, pk: int) -> str:
        return self._link("leads:detail", pk)

    def transition(self, pk: int, name: str) -> str:
        return self._link("leads:transition", pk, name)

    def opened(self, pk: int, name: str) -> str:
        """This page with the pop-over form ``name`` open in the card of lead ``pk`` (no JavaScript)."""
        return f"{self._open_prefix}open={name}&lead={pk}#lead-{pk}"

    def for_lead(self, pk: int, transitions, popovers=()) -> dict:
        links = {"detail": self.detail(pk)}
        links.update((name, self.transition(pk, name)) for name in transitions)
        links.update((f"open_{name}", self.opened(pk, name)) for name in popovers)
        return links


def team_filter(request, people):
    """(team view, the Rep filter's choices, the rep chosen) of a queue page.

    A manager sees the team's leads and may narrow them to one of ``people()`` with
    ``?rep=<username>``; anyone else sees their own, with no filter.
    """
    if not can_work_any_lead(request.user):
        return False, [], None
    choices = list(people())
    wanted = request.GET.get("rep")
    rep = next((p for p in choices if p.username == wanted), None) if wanted else None
    return True, choices, rep


def rep_queue(request, queue, fields) -> dict:
    """What the inbox and the to-qualify page share: the Rep filter and one page of the queue.

    ``queue(user, rep=…)`` gives the leads (the chosen rep's, for a manager who picked
    one), of which only ``fields`` are read; the page counts them exactly up to
    ``INBOX_COUNT_CAP``. Returns the context keys ``team_view``, ``people``, ``rep``
    and ``page_obj``.
    """
    team_view, people, rep = team_filter(request, sales_reps)  # the Rep filter: reps only
    page = CountedPaginator(
        queue(request.user, rep=rep).only(*fields), PAGE_SIZE, cap=INBOX_COUNT_CAP, estimate=False
    ).get_page(request.GET.get("page"))
    return {"team_view": team_view, "people": people, "rep": rep, "page_obj": page}


def localize_choices(form):
    """Show admin-edited reasons and users in the user's language / by name."""
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            continue
        if queryset.model in (RejectReason, DisqualifyReason, LeadSource):
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


class InboxView(LivePageMixin, TemplateView):
    """MQLs awaiting acceptance by deadline, with Accept and Reject; managers see the team."""

    template_name = "leads/inbox.html"

    page_for = staticmethod(can_work_leads)
    permission_denied_message = _("The inbox is for sales reps and managers.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        queue = rep_queue(self.request, inbox_for_user, CARD_FIELDS)
        pool = mql_pool_for_user(user).only(*CARD_FIELDS)
        pool_leads = list(pool[:POOL_SIZE])
        reassigning = can_reassign(user)
        opened = opened_form(self.request, ("reject", "reassign"))
        links = LeadLinks(self.request)
        words = CardWords()
        words.fit_rule = FitRule.load().as_rule()
        cards = [
            self._card(lead, user, now, reassigning, opened, links, words)
            for lead in queue["page_obj"]
        ]
        pool_cards = [
            self._card(lead, user, now, reassigning, opened, links, words) for lead in pool_leads
        ]
        context.update(
            queue,
            cards=cards,
            pool_cards=pool_cards,
            pool_total=count_results(pool, cap=INBOX_COUNT_CAP, estimate=False),
            reject_reasons=[
                (r.code, translated_label(r.label))
                for r in RejectReason.objects.filter(is_active=True)
            ],
            # A manager's Rep filter lists the same people (one query for both).
            reassign_to=(
                (queue["people"] if queue["team_view"] else list(sales_reps()))
                if reassigning
                else []
            ),
            # The shared forms sit in no card unless one was opened without JavaScript.
            shared_forms_pending={
                name
                for name in ("reject", "reassign")
                if not any(card["open"] == name for card in cards + pool_cards)
            },
            back=page_path(self.request),
        )
        return context

    @staticmethod
    def _card(lead, user, now, reassigning, opened, links, words):
        """What one card shows, its words ready-made: the inbox draws up to 70 a page."""
        can_reject = can_transition(user, lead, "reject")
        can_reassign_lead = reassigning and lead.owner_id is not None
        open_form = None
        if opened is not None and opened[1] == lead.pk:
            allowed = {"reject": can_reject, "reassign": can_reassign_lead}
            open_form = opened[0] if allowed[opened[0]] else None
        due = lead.accept_due_at
        return {
            "lead": lead,
            "name": lead.full_name or lead.email,
            "facts": words.facts(lead),
            "fit": words.fit(lead.fit),
            "fit_reason": words.fit_reason(lead),
            "source": words.label(lead.source.label),
            "owner": str(lead.owner) if lead.owner_id else "",
            "owner_username": lead.owner.username if lead.owner_id else "",
            "due": formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
            if due
            else "",
            "state": deadline_state(due, now),
            "can_accept": can_transition(user, lead, "accept"),
            "can_reject": can_reject,
            "can_reassign": reassigning,
            "open": open_form,
            "links": links.for_lead(
                lead.pk, ("accept", "reject", "reassign"), popovers=("reject", "reassign")
            ),
        }


# --- the lead page -----------------------------------------------------------------


def lead_page_context(request, lead, *, bound=None, back=None) -> dict:
    """Everything the lead page shows; ``bound`` is (transition name, form with errors).

    ``back`` is where its forms return after success: the page the user came from,
    never the transition's own address (a form re-shown with errors is rendered there).
    """
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
    reason_labels = transition_reason_labels()
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
            "reason": history_reason(row, reason_labels),
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
                "confirm": entry.confirm,
                "open": is_bound,
            }
        )
    bant = next((a for a in actions if a["name"] == "qualify"), None)
    # Came from the "To qualify" queue: the BANT form (and the breadcrumb) go back there.
    queue = qualify_queue_address(back or safe_next(request, ""))
    if queue:
        back = f"{reverse('leads:detail', args=[lead.pk])}?{urlencode({'next': queue})}"
    return {
        "lead": lead,
        "back": back or request.get_full_path(),
        "queue_back": queue,
        "bant_back": queue or back or request.get_full_path(),
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
        "sla_state": deadline_state(lead.running_deadline, timezone.now()),
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

    def get(self, request, pk, name):
        # A reload of a form re-shown with errors (rendered at this address) lands on the lead page.
        return redirect("leads:detail", pk=pk)

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
                # It was in the pool, which every rep sees: naming it tells nothing new.
                taken = Lead.objects.only("first_name", "last_name", "email", "company").get(pk=pk)
                messages.warning(
                    request,
                    gettext("%(lead)s has changed: another rep took it from the pool.")
                    % {"lead": lead_name(taken)},
                )
                return redirect(safe_next(request, reverse("leads:inbox")))
            raise
        back = return_address(request, lead)
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
            exc.add_to(form)
            return self._invalid(request, lead, entry, form, back)
        messages.success(request, done_message(entry, lead, form.cleaned_data))
        if request.htmx and request.POST.get("origin") == "page" and qualify_queue_address(back):
            # The lead page swaps in only itself: the browser goes to the queue instead.
            return HttpResponseClientRedirect(back)
        return redirect(back)

    @staticmethod
    def _invalid(request, lead, entry, form, back):
        from_a_card = request.htmx and request.POST.get("origin") != "page"
        shown = {e.name for e in available_transitions(request.user, lead)}
        if from_a_card and entry.name in REASON_FORMS and entry.name in shown:
            return reason_form_invalid(request, lead, entry, form, back)
        if from_a_card or entry.name not in shown:
            # A card in a list has no room for a full form, and a page without this action
            # has no form to show: say what was wrong above the list.
            problems = " ".join(" ".join(field_problems) for field_problems in form.errors.values())
            messages.error(
                request, gettext("Nothing was changed. %(problems)s") % {"problems": problems}
            )
            return redirect(back)
        context = lead_page_context(request, lead, bound=(entry.name, form), back=back)
        # htmx swaps only successful answers; a plain form post gets the honest 400.
        return render(
            request, "leads/lead_detail.html", context, status=200 if request.htmx else 400
        )


#: The pop-over forms of a reason and a note (``_reason_form.html``), with their reason lists.
REASON_FORMS = {"reject": RejectReason, "disqualify": DisqualifyReason}


def reason_form_invalid(request, lead, entry, form, back):
    """A card's reason pop-over, re-drawn in place with its errors and what the user typed.

    htmx swaps the answer for the open form only (HX-Retarget/HX-Reselect), so the pop-over
    stays open, the note is kept and the focus goes to the field to fix (leadflow.js).
    """
    reasons = [
        (r.code, translated_label(r.label))
        for r in REASON_FORMS[entry.name].objects.filter(is_active=True)
    ]
    selector = f"#{entry.name}-form"
    response = render(
        request,
        f"leads/_{entry.name}_form.html",
        {
            "form_lead": lead,
            "bound": form,
            "back": back,
            "origin": request.POST.get("origin", ""),
            f"{entry.name}_reasons": reasons,
        },
    )
    response["HX-Retarget"] = selector
    response["HX-Reselect"] = selector
    response["HX-Reswap"] = "outerHTML"
    return response


def qualify_queue_address(address: str) -> str:
    """``address`` when it is the "To qualify" queue (any filter or page of it), else ""."""
    return address if address and urlsplit(address).path == reverse("leads:to_qualify") else ""


def return_address(request, lead) -> str:
    """Where a transition sends the user back: the ``next`` it carries, if a page (not a POST-only address)."""
    page = reverse("leads:detail", args=[lead.pk])
    back = safe_next(request, page)
    try:
        if resolve(urlsplit(back).path).url_name == "transition":
            return page
    except Resolver404:
        return page
    return back


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


class ReviewQueueView(LivePageMixin, TemplateView):
    """Rejected MQLs, filterable, with Recycle, Resubmit and Disqualify and counts by reason."""

    template_name = "leads/review_queue.html"

    page_for = staticmethod(can_review_rejected_leads)
    permission_denied_message = _("The review queue is for marketing.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        queue = rejected_for_review(user)
        filterset = ReviewFilter(self.request.GET or None, queryset=queue)
        localize_choices(filterset.form)
        leads = filterset.qs
        selected = filterset.form.cleaned_data.get("reason") if filterset.is_bound else None
        selected = selected.code if selected else None
        # The bars count every reason under the other filters, so that picking one reason
        # keeps the others to switch to; the picked one is marked and clears the filter.
        others = self.request.GET.copy()
        others.pop("reason", None)
        # The reasons and reps of the filter's selects, read once: its rows name the cards'
        # reasons and fill the resubmit form's reps too.
        reasons = {
            r.code: translated_label(r.label) for r in filterset.form.fields["reason"].queryset
        }
        counting = ReviewFilter(others or None, queryset=queue)
        counts = [
            {
                "code": code,
                "label": reasons.get(code, code or "—"),
                "count": n,
                "selected": selected is not None and code == selected,
            }
            for code, n in rejection_counts(user, counting.qs, filtered=counting.narrows())
        ]
        counted = sum(c["count"] for c in counts if selected is None or c["selected"])
        # The counts by reason already say how many match: the pages need no count of their own.
        page = CountedPaginator(leads, PAGE_SIZE, result_count=ResultCount(counted)).get_page(
            self.request.GET.get("page")
        )
        opened = opened_form(self.request, ("resubmit", "disqualify"))
        links, words = LeadLinks(self.request), CardWords()
        rows = [self._row(lead, user, reasons, opened, links, words) for lead in page]
        context.update(
            filter=filterset,
            page_obj=page,
            rows=rows,
            counts=counts,
            counted=counted,
            max_count=max((c["count"] for c in counts), default=1),
            disqualify_reasons=[
                (r.code, translated_label(r.label))
                for r in DisqualifyReason.objects.filter(is_active=True)
            ],
            reps=list(filterset.form.fields["rep"].queryset),
            shared_forms_pending={
                name
                for name in ("resubmit", "disqualify")
                if not any(row["open"] == name for row in rows)
            },
            back=page_path(self.request),
        )
        return context

    @staticmethod
    def _row(lead, user, reasons, opened, links, words):
        """What one card shows, its words ready-made: the queue draws up to 50 a page."""
        last = lead.rejections[-1] if lead.rejections else None
        facts = []
        if last is not None:
            facts.append(
                gettext("Rejected by %(who)s on %(when)s")
                % {
                    "who": last.actor or gettext("System"),
                    "when": formats.date_format(
                        timezone.localtime(last.at), "SHORT_DATETIME_FORMAT"
                    ),
                }
            )
        if lead.owner_id:
            facts.append(f"{gettext('Rep')}: {lead.owner}")
        if lead.recycle_count:
            facts.append(
                ngettext("recycled once before", "recycled %(n)s times before", lead.recycle_count)
                % {"n": lead.recycle_count}
            )
        row = {
            "lead": lead,
            "name": lead.full_name or lead.email,
            "rejection": last,
            "reason": reasons.get(lead.last_reject_reason_id, lead.last_reject_reason_id or ""),
            "fit": words.fit(lead.fit),
            "source": words.label(lead.source.label),
            "facts": " · ".join(facts),
            "can_recycle": can_transition(user, lead, "recycle"),
            "can_resubmit": can_transition(user, lead, "resubmit"),
            "can_disqualify": can_transition(user, lead, "disqualify"),
            "open": None,
            "links": links.for_lead(
                lead.pk,
                ("recycle", "resubmit", "disqualify"),
                popovers=("resubmit", "disqualify"),
            ),
        }
        if opened is not None and opened[1] == lead.pk and row[f"can_{opened[0]}"]:
            row["open"] = opened[0]
        return row


# --- lead list -------------------------------------------------------------------------


class LeadListView(PageMixin, ListView):
    """Every lead the user may see: filters, search, sort and pages."""

    template_name = "leads/lead_list.html"
    context_object_name = "leads"
    paginate_by = PAGE_SIZE
    paginator_class = CountedPaginator
    # Counted exactly up to here; a longer list says "about N" (see ``pagination``).
    count_cap = COUNT_CAP

    def get_paginator(self, queryset, per_page, **kwargs):
        return super().get_paginator(queryset, per_page, cap=self.count_cap, **kwargs)

    def paginate_queryset(self, queryset, page_size):
        # A page past the end shows the last one (as the other lists do), not a 404.
        paginator = self.get_paginator(queryset, page_size)
        number = self.request.GET.get(self.page_kwarg)
        page = paginator.get_page(paginator.num_pages if number == "last" else number)
        return paginator, page, page.object_list, page.has_other_pages()

    def get_queryset(self):
        self.filterset = LeadFilter(
            self.request.GET or None, queryset=leads_for_user(self.request.user)
        )
        localize_choices(self.filterset.form)
        if not can_see_all_leads(self.request.user):
            # A rep sees only their own leads and the pool: an owner filter would only offer emptiness.
            self.filterset.form.fields.pop("owner", None)
        if self.filterset.errors:
            # A filter value the form refuses: no leads, rather than the leads of the other filters
            # alone; the form says which filter and why (and the answer is a 400).
            return self.filterset.queryset.none()
        return self.filterset.qs

    def render_to_response(self, context, **response_kwargs):
        if self.filterset.errors:
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["can_import"] = can_create_leads(self.request.user)
        # A sort the form refused is not handed on to the next filtering.
        context["sort"] = (
            "" if "sort" in self.filterset.errors else self.request.GET.get("sort", "")
        )
        links, words = LeadLinks(self.request), CardWords()
        context["rows"] = [
            {
                "lead": lead,
                "deadline": lead.running_deadline,
                "link": links.detail(lead.pk),
                "stage": words.stage(lead.stage),
                "fit": words.fit(lead.fit),
                "source": words.label(lead.source.label),
                "created": words.day(lead.created_at),
            }
            for lead in context["leads"]
        ]
        # A refused value (a bad sort too) narrows the list to nothing: "no lead matches", and Clear.
        context["filtered"] = bool(self.filterset.errors) or any(
            v for k, v in self.request.GET.items() if k not in ("page", "sort")
        )
        return context
