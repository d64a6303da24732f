"""Slack incoming-webhook endpoints get readable messages with a link, in the site's language."""

import pytest
from django.utils import timezone

from apps.leads.services import lead_transition
from apps.reports.services import weekly_report_send_last_week
from apps.sla.services import sla_sweep
from apps.webhooks.models import EndpointKind, WebhookEndpoint
from tests.factories import LeadFactory
from tests.leads.helpers import form_values, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack(receiver):
    return WebhookEndpoint.objects.create(
        name="#sales",
        url=receiver.url,
        kind=EndpointKind.SLACK,
        event_types=["lead.promoted", "sla.breached", "report.weekly", "lead.rejected"],
    )


def test_a_new_mql_reads_as_a_sentence_with_a_link_to_the_lead(
    receiver, slack, marketer, manager, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://leadflow.example.com"
    lead = LeadFactory(first_name="Aiko", last_name="Tanaka", company="Kumo & Co")
    with django_capture_on_commit_callbacks(execute=True):
        walk_to(lead, "mql", marketer=marketer, manager=manager)
        lead_transition(
            lead=lead.pk,
            name="reject",
            actor=manager,
            values=form_values("reject", {"reason": "no_budget"}),
        )
    first, second = [r.json for r in receiver.received]
    assert set(first) == {"text", "blocks"}
    assert first["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": first["text"]}}
    ]
    lead.refresh_from_db()
    assert first["text"] == (
        f"*New MQL*: <https://leadflow.example.com/leads/{lead.pk}/|Aiko Tanaka> (Kumo &amp; Co), "
        f"score {lead.score}, owner {lead.owner.username if lead.owner else 'nobody'}."
    )
    assert second["text"].startswith(f"<https://leadflow.example.com/leads/{lead.pk}/|Aiko Tanaka>")
    assert "Rejected by mona. Reason: No budget." in second["text"]
    # Slack checks no signature, and none is sent.
    assert "webhook-signature" not in receiver.received[0].headers


def test_messages_follow_the_sites_language(
    receiver, slack, marketer, manager, settings, django_capture_on_commit_callbacks
):
    settings.LANGUAGE_CODE = "ja"
    lead = LeadFactory(first_name="Aiko", last_name="Tanaka")
    with django_capture_on_commit_callbacks(execute=True):
        walk_to(lead, "mql", marketer=marketer, manager=manager)
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=lead.accept_due_at + timezone.timedelta(hours=1))
        weekly_report_send_last_week()
    texts = [r.json["text"] for r in receiver.received]
    assert texts[0].startswith("*新しいMQL*")
    assert "SLA違反" in texts[1] and "承認されませんでした" in texts[1]
    assert texts[2].startswith("*週次レポート") and "レポートを開く" in texts[2]
