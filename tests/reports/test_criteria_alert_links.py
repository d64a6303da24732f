"""A week whose criteria look too loose or too strict links, by email and on the dashboard, to the
suggested criteria for that week."""

import pytest
import time_machine
from django.core import mail

from apps.reports import tasks
from tests.reports.conftest import jst

pytestmark = pytest.mark.django_db

MONDAY_MORNING = jst(2026, 5, 18, 8)  # the Monday after 2026-W20
SUGGESTIONS = "http://testserver/reports/suggestions/?to=2026-W20"


def week20_with(history, team, *, mqls, sqls):
    for i in range(mqls):
        lead = history.lead()
        history.promote_by_hand(lead, jst(2026, 5, 12, 9, i), owner=team["rita"])
        if i < sqls:
            history.step(lead, "accept", jst(2026, 5, 12, 11, i))
            history.step(lead, "qualify", jst(2026, 5, 13, 9, i))
    mail.outbox.clear()


def emails_of_the_weekly_job(settings):
    settings.SITE_URL = "http://testserver"
    with time_machine.travel(MONDAY_MORNING, tick=False):
        tasks.weekly_report_task.delay()
    return mail.outbox


@pytest.mark.parametrize(
    "mqls, sqls, alert", [(10, 1, "may be too loose"), (4, 3, "may be too strict")]
)
def test_a_criteria_alert_email_links_to_that_weeks_suggestions(
    tokyo, team, history, settings, mqls, sqls, alert
):
    week20_with(history, team, mqls=mqls, sqls=sqls)

    emails = emails_of_the_weekly_job(settings)

    assert len(emails) == 2  # maya in English, mona in Japanese
    for email in emails:
        assert SUGGESTIONS in email.body
        assert f'href="{SUGGESTIONS}"' in email.alternatives[0][0]
    english = next(e for e in emails if e.to == ["maya@example.com"])
    assert alert in english.body
    assert "See the MQL criteria Leadflow suggests for the 12 weeks to 2026-W20" in english.body


def test_a_week_in_the_band_sends_no_suggestions_link(tokyo, team, history, settings):
    week20_with(history, team, mqls=4, sqls=1)  # 25%

    emails = emails_of_the_weekly_job(settings)

    assert emails and all("/reports/suggestions/" not in email.body for email in emails)


def test_the_dashboard_links_a_criteria_alert_to_the_suggestions_for_its_week(
    tokyo, team, history, client
):
    week20_with(history, team, mqls=10, sqls=1)
    client.force_login(team["maya"])

    with time_machine.travel(jst(2026, 5, 20, 12), tick=False):
        page = client.get("/reports/").content.decode()

    alerts = page.split('data-testid="alerts"')[1].split("</section>")[0]
    assert 'data-code="criteria_too_loose"' in alerts
    assert 'href="/reports/suggestions/?to=2026-W20"' in alerts
    row = page.split('data-week="2026-W20"')[1].split("</tr>")[0]
    assert 'href="/reports/suggestions/?to=2026-W20"' in row
    assert 'href="/reports/suggestions/?to=2026-W19"' not in page  # W19 raised nothing
