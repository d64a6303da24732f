"""The "To qualify" queue: accepted leads waiting on BANT, nearest process-by deadline first.

After Accept a lead leaves the inbox; its 48-hour processing clock keeps running. Reps
see theirs, managers the team's (or one rep's), each with the countdown and the BANT
form one click away (the lead page opens on it).
"""

from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView

from apps.accounts.permissions import can_work_any_lead, can_work_leads, has_role
from apps.accounts.selectors import sales_people
from apps.leads.filters import deadline_state
from apps.leads.pagination import CountedPaginator
from apps.leads.selectors import latest_transition_id, to_qualify_for_user
from apps.leads.views import INBOX_COUNT_CAP, PAGE_SIZE, CardWords, LeadLinks, PageMixin

QUEUE_FIELDS = (
    *("id", "stage", "owner", "first_name", "last_name", "email", "title", "company"),
    *("employees", "industry", "country", "score", "fit", "fit_reason", "process_due_at"),
    *("accepted_at", "source__code", "source__label"),
)


class ToQualifyView(PageMixin, TemplateView):
    """Accepted leads awaiting qualification (SPEC §4's processing clock), with BANT one click away."""

    template_name = "leads/to_qualify.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and has_role(user) and not can_work_leads(user):
            raise PermissionDenied(_("The qualification queue is for sales reps and managers."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        # Read before the cards: a change made while they are read is then news to the poll.
        live_since = latest_transition_id()
        team_view = can_work_any_lead(user)
        people = list(sales_people()) if team_view else []
        rep = None
        if team_view and self.request.GET.get("rep"):
            rep = next((p for p in people if p.username == self.request.GET["rep"]), None)
        page = CountedPaginator(
            to_qualify_for_user(user, rep=rep).only(*QUEUE_FIELDS),
            PAGE_SIZE,
            cap=INBOX_COUNT_CAP,
            estimate=False,
        ).get_page(self.request.GET.get("page"))
        links, words = LeadLinks(self.request), CardWords()
        context.update(
            team_view=team_view,
            people=people,
            rep=rep,
            page_obj=page,
            cards=[self._card(lead, now, team_view, links, words) for lead in page],
            live_since=live_since,
        )
        return context

    @staticmethod
    def _card(lead, now, team_view, links, words):
        facts = [lead.industry, lead.country]
        if lead.employees:
            facts.insert(
                0,
                ngettext("%(n)s employee", "%(n)s employees", lead.employees)
                % {"n": formats.localize(lead.employees)},
            )
        due = lead.process_due_at
        detail = links.detail(lead.pk)
        return {
            "lead": lead,
            "name": lead.full_name or lead.email,
            "facts": " · ".join(fact for fact in facts if fact),
            "fit": words.fit(lead.fit),
            "source": words.label(lead.source.label),
            "owner": str(lead.owner) if team_view and lead.owner_id else "",
            "due": formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
            if due
            else "",
            "state": deadline_state(due, now),
            "detail": detail,
            # The lead page with its BANT form in view (the form's section heading).
            "qualify": f"{detail}#bant-title",
        }
