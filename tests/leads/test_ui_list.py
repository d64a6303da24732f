"""The lead list: filters by stage, source, owner, score, created date and SLA status; search, sort, pages."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from apps.leads.models import Lead
from tests.factories import LeadFactory
from tests.leads.helpers import walk_to

pytestmark = pytest.mark.django_db

LIST = "/leads/"


def shown(client, **params):
    """The emails the list shows for ``params``."""
    import re

    body = client.get(LIST, params).content.decode()
    return set(re.findall(r'<div class="muted small">([^<]+@[^<]+)</div>', body))


def test_filters_by_stage_source_and_score_range(client, marketer, manager, rep):
    mql = walk_to(
        LeadFactory(email="mql@example.com", source_id="ads"),
        "mql",
        marketer=marketer,
        manager=manager,
    )
    LeadFactory(email="new@example.com", source_id="website")
    Lead.objects.filter(pk=mql.pk).update(score=42)
    client.force_login(marketer)

    assert shown(client, stage="mql") == {"mql@example.com"}
    assert shown(client, source="website") == {"new@example.com"}
    assert shown(client, score_min=40, score_max=50) == {"mql@example.com"}
    assert shown(client, score_max=5) == {"new@example.com"}


def test_filters_by_owner_including_unassigned(client, marketer, manager, rep):
    owned = walk_to(
        LeadFactory(email="owned@example.com"), "mql", marketer=marketer, manager=manager
    )
    LeadFactory(email="nobodys@example.com")
    client.force_login(marketer)

    assert shown(client, owner=owned.owner.username) == {"owned@example.com"}
    assert shown(client, owner="null") == {"nobodys@example.com"}


def test_filters_by_created_date(client, marketer):
    old = LeadFactory(email="old@example.com")
    LeadFactory(email="fresh@example.com")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(marketer)
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()

    assert shown(client, created_from=week_ago) == {"fresh@example.com"}
    assert shown(client, created_to=week_ago) == {"old@example.com"}


def test_filters_by_sla_status(client, marketer, manager, rep):
    leads = {
        name: walk_to(
            LeadFactory(email=f"{name}@example.com"), "mql", marketer=marketer, manager=manager
        )
        for name in ("late", "soon", "fine")
    }
    now = timezone.now()
    Lead.objects.filter(pk=leads["late"].pk).update(accept_due_at=now - dt.timedelta(hours=1))
    Lead.objects.filter(pk=leads["soon"].pk).update(accept_due_at=now + dt.timedelta(hours=2))
    Lead.objects.filter(pk=leads["fine"].pk).update(accept_due_at=now + dt.timedelta(hours=20))
    LeadFactory(email="no-clock@example.com")
    client.force_login(marketer)

    assert shown(client, sla="overdue") == {"late@example.com"}
    assert shown(client, sla="due_soon") == {"soon@example.com"}
    assert shown(client, sla="on_time") == {"fine@example.com"}
    body = client.get(LIST, {"sla": "overdue"}).content.decode()
    assert "overdue by 1 h 0 min" in body


def test_search_matches_name_email_and_company(client, marketer):
    LeadFactory(
        first_name="Aiko", last_name="Tanaka", company="Kumo Systems", email="aiko@kumo.example"
    )
    LeadFactory(
        first_name="Ben", last_name="Smith", company="Granite Freight", email="ben@granite.example"
    )
    client.force_login(marketer)

    assert shown(client, q="tanaka") == {"aiko@kumo.example"}
    assert shown(client, q="kumo aiko") == {"aiko@kumo.example"}
    assert shown(client, q="granite.example") == {"ben@granite.example"}
    assert shown(client, q="nobody-here") == set()


def test_sorting_by_score_both_ways(client, marketer):
    for score in (5, 50, 20):
        lead = LeadFactory(email=f"s{score}@example.com")
        Lead.objects.filter(pk=lead.pk).update(score=score)
    client.force_login(marketer)

    ascending = client.get(LIST, {"sort": "score"}).content.decode()
    descending = client.get(LIST, {"sort": "-score"}).content.decode()

    assert ascending.index("s5@") < ascending.index("s20@") < ascending.index("s50@")
    assert descending.index("s50@") < descending.index("s20@") < descending.index("s5@")
    assert 'aria-sort="descending"' in descending


def test_pages_keep_the_filters(client, marketer):
    LeadFactory.create_batch(55, source_id="ads")
    LeadFactory(source_id="website")
    client.force_login(marketer)

    first = client.get(LIST, {"source": "ads"}).content.decode()
    second = client.get(LIST, {"source": "ads", "page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert "?source=ads&amp;page=2" in first
    assert second.count("<tr>") == 1 + 5  # header row and the last five ads leads


def test_a_rep_cannot_widen_the_list_with_filters(client, rep, other_rep, marketer, manager):
    walk_to(LeadFactory(email="mine@example.com"), "mql", marketer=marketer, manager=manager)
    walk_to(LeadFactory(email="theirs@example.com"), "mql", marketer=marketer, manager=manager)
    client.force_login(rep)

    assert shown(client) == {"mine@example.com"}
    assert shown(client, owner=other_rep.username) == {"mine@example.com"}
    assert 'name="owner"' not in client.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"stage": "bogus"}, "stage", "Select a valid choice. bogus is not one of the available"),
        ({"score_min": "abc"}, "score_min", "Enter a number."),
        ({"created_from": "notadate"}, "created_from", "Enter a valid date."),
    ],
)
def test_a_filter_value_the_form_refuses_is_a_400_naming_the_field(
    client, marketer, params, field, message
):
    LeadFactory(email="any@example.com")
    client.force_login(marketer)

    response = client.get(LIST, {"source": "website", **params})

    assert response.status_code == 400
    body = response.content.decode()
    box = re.search(
        rf'<div class="filter-field has-error">\s*<label for="id_{field}">.*?</div>', body, re.S
    )
    assert box and message in box.group(0) and 'aria-invalid="true"' in box.group(0)
    assert f'aria-describedby="id_{field}_error"' in box.group(0)
    assert f'<p class="field-error" id="id_{field}_error" role="alert">' in box.group(0)
    assert body.count("has-error") == 1
    assert "No lead matches these filters." in body  # not the leads of the other filters alone
    assert 'data-testid="lead-count">0<' in body


def test_a_refused_value_of_a_hidden_filter_or_the_sort_is_named_above_the_form(client, marketer):
    LeadFactory(email="any@example.com")
    client.force_login(marketer)

    hidden = client.get(LIST, {"promoted_criteria": "latest"})
    sort = client.get(LIST, {"sort": "shoe_size"})

    assert hidden.status_code == sort.status_code == 400
    assert "Promoted by criteria version: A criteria version is a number" in hidden.content.decode()
    body = sort.content.decode()
    assert "Sort by: Select a valid choice. shoe_size is not one of the available" in body
    assert 'name="sort" value="shoe_size"' not in body  # the next filtering starts afresh
    # Leads exist: the empty list is the refused sort's doing, not "No leads yet".
    assert "No lead matches these filters." in body and "No leads yet." not in body


def test_a_refused_filter_value_is_named_in_japanese(client, marketer):
    marketer.language = "ja"
    marketer.save()
    client.force_login(marketer)

    response = client.get(LIST, {"score_min": "abc"})

    assert response.status_code == 400
    assert "数値を入力してください。" in response.content.decode()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_created_column_writes_a_day_as_the_date_filter_does(language):
    from zoneinfo import ZoneInfo

    from django.template import Context, Template
    from django.utils import translation

    from apps.leads.views import CardWords

    date_filter = Template('{{ moment|date:"DATE_FORMAT" }}')
    moments = [
        dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC),  # already the 30th in Tokyo
        dt.datetime(2026, 11, 30, 14, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC),  # the 1st of December in Tokyo
        dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),
    ]
    with translation.override(language), timezone.override(ZoneInfo("Asia/Tokyo")):
        words = CardWords()
        assert [words.day(m) for m in moments] == [
            date_filter.render(Context({"moment": m})) for m in moments
        ]
