"""The "To qualify" queue: accepted leads waiting on BANT, nearest process-by deadline first.

After Accept a lead leaves the inbox; its 48-hour processing clock keeps running. Reps
see theirs, managers the team's (or one rep's), each with the countdown and the BANT
form one click away (the lead page opens on it).
"""

from urllib.parse import urlencode

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from apps.accounts.permissions import can_work_leads
from apps.leads.filters import deadline_state
from apps.leads.selectors import to_qualify_for_user
from apps.leads.views import CardWords, LeadLinks, LivePageMixin, page_path, rep_queue

QUEUE_FIELDS = (
    *("id", "stage", "owner", "first_name", "last_name", "email", "title", "company"),
    *("employees", "industry", "country", "score", "fit", "fit_reason", "process_due_at"),
    *("accepted_at", "source__code", "source__label"),
)


class ToQualifyView(LivePageMixin, TemplateView):
    """Accepted leads awaiting qualification (SPEC §4's processing clock), with BANT one click away."""

    template_name = "leads/to_qualify.html"

    page_for = staticmethod(can_work_leads)
    permission_denied_message = _("The qualification queue is for sales reps and managers.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        queue = rep_queue(self.request, to_qualify_for_user, QUEUE_FIELDS)
        team_view = queue["team_view"]
        links, words = LeadLinks(self.request), CardWords()
        # The lead page's BANT form comes back here when it is done.
        back = urlencode({"next": page_path(self.request)})
        context.update(
            queue,
            cards=[
                self._card(lead, now, team_view, links, words, back) for lead in queue["page_obj"]
            ],
        )
        return context

    @staticmethod
    def _card(lead, now, team_view, links, words, back):
        due = lead.process_due_at
        detail = links.detail(lead.pk)
        return {
            "lead": lead,
            "name": lead.full_name or lead.email,
            "facts": words.facts(lead),
            "fit": words.fit(lead.fit),
            "source": words.label(lead.source.label),
            "owner": str(lead.owner) if team_view and lead.owner_id else "",
            "due": formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")
            if due
            else "",
            "state": deadline_state(due, now),
            "detail": detail,
            # The lead page with its BANT form in view (the form's section heading).
            "qualify": f"{detail}?{back}#bant-title",
        }
