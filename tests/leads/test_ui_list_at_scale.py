"""The lead list stays cheap on a big table: capped counts said honestly, exact "Next", indexed search."""

import re

import pytest
from django.db import connection

from apps.leads.models import Lead
from apps.leads.pagination import CountedPaginator, ResultCount, count_results
from apps.leads.selectors import leads_matching
from apps.leads.views import LeadListView
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/leads/"


def lead_count(body):
    return re.search(r'data-testid="lead-count">([^<]+)<', body).group(1)


@pytest.fixture
def small_cap(monkeypatch):
    """The list counts exactly up to 3 leads (1,000 in production)."""
    monkeypatch.setattr(LeadListView, "count_cap", 3)
    monkeypatch.setattr(LeadListView, "paginate_by", 2)


def test_a_count_under_the_cap_is_exact(client, marketer, small_cap):
    LeadFactory.create_batch(3)
    client.force_login(marketer)

    body = client.get(LIST).content.decode()

    assert lead_count(body) == "3"
    assert "Page 1 of 2" in body


@pytest.mark.postgres
def test_a_count_over_the_cap_is_said_to_be_an_estimate(client, marketer, small_cap):
    LeadFactory.create_batch(7)
    client.force_login(marketer)

    body = client.get(LIST).content.decode()

    # Either PostgreSQL's estimate ("about 7") or, if it guesses low, the cap it counted to.
    assert re.fullmatch(r"about [\d,]+|3\+", lead_count(body))
    assert re.search(r"Page 1 of (about [\d,]+|2\+)", body)


def test_next_is_offered_exactly_when_a_further_page_has_leads(client, marketer, small_cap):
    LeadFactory.create_batch(4)
    client.force_login(marketer)

    second = client.get(LIST, {"page": 2}).content.decode()
    assert second.count("<tr>") == 1 + 2
    assert 'rel="next"' not in second and 'rel="prev"' in second

    LeadFactory()
    assert 'rel="next"' in client.get(LIST, {"page": 2}).content.decode()


def test_the_page_count_follows_the_filters(client, marketer, small_cap):
    LeadFactory.create_batch(5, source_id="ads")
    LeadFactory(source_id="website")
    client.force_login(marketer)

    assert lead_count(client.get(LIST, {"source": "website"}).content.decode()) == "1"


def test_a_page_past_the_end_shows_the_last_page(client, marketer, small_cap):
    LeadFactory.create_batch(3)
    client.force_login(marketer)

    response = client.get(LIST, {"page": 9})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Page 2 of 2" in body and body.count("<tr>") == 1 + 1
    assert "Page 2 of 2" in client.get(LIST, {"page": "last"}).content.decode()
    assert "Page 1 of 2" in client.get(LIST, {"page": "nine"}).content.decode()


def test_a_page_past_the_end_of_an_estimate_is_found_by_counting():
    """PostgreSQL's estimate may promise more pages than there are: the rows tell."""
    LeadFactory.create_batch(5)
    estimate = ResultCount(40, exact=False, cap=3)
    paginator = CountedPaginator(Lead.objects.order_by("-id"), 2, cap=3, result_count=estimate)

    page = paginator.get_page(12)

    assert (page.number, len(page.object_list), str(paginator.result_count)) == (3, 1, "5")
    assert not page.has_next()


def test_counts_read_at_most_the_cap_plus_one_row():
    LeadFactory.create_batch(6)
    count = count_results(Lead.objects.all(), cap=4)
    if connection.vendor == "postgresql":
        assert not count.exact and count.value >= 5
    else:
        assert count == ResultCount(6, exact=True, cap=4)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (ResultCount(999), "999"),
        (ResultCount(1000), "1,000"),
        (ResultCount(1234, exact=False), "about 1,200"),
        (ResultCount(987_654, exact=False), "about 990,000"),
        (ResultCount(1_234_567, exact=False), "about 1.2 million"),
        (ResultCount(800, exact=False, cap=1000), "1,000+"),
    ],
)
def test_counts_read_as_people_say_them(count, text, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    assert str(count) == text


def test_search_finds_each_word_in_name_email_or_company(marketer):
    aiko = LeadFactory(
        first_name="Aiko", last_name="Tanaka", company="Kumo Systems", email="aiko@kumo.example"
    )
    ben = LeadFactory(
        first_name="Ben", last_name="Smith", company="Granite Freight", email="ben@granite.example"
    )

    def found(text):
        return set(leads_matching(Lead.objects.all(), text))

    assert found("TANAKA") == {aiko}
    assert found("kumo aiko") == {aiko}
    assert found("smith granite.example") == {ben}
    assert found("aiko smith") == set()
    # A word never spans two fields: "tanaka kumo" is two words, "tanakakumo" is none.
    assert found("tanakakumo") == set()


def test_search_for_an_email_finds_the_leads_holding_it_whole(marketer):
    aiko = LeadFactory(email="aiko.tanaka@kumo.example", company="Kumo")
    LeadFactory(email="aiko.tanaka@other.example", company="Other")
    home = LeadFactory(email="x@y.example", company="Cafe@Home")

    def found(text):
        return set(leads_matching(Lead.objects.all(), text))

    assert found("aiko.tanaka@kumo.example") == {aiko}
    assert found("AIKO.TANAKA@KUMO") == {aiko}
    assert found("@kumo.example") == {aiko}
    assert found("aiko.tanaka@kumo.example other") == set()
    assert found("Cafe@Home") == {home}
    assert found("aiko.tanaka@kumo.examplex") == set()


def test_search_takes_percent_and_underscore_literally(marketer):
    LeadFactory(company="100% Organic", email="a@example.com")
    LeadFactory(company="Plain Co", email="b_c@example.com")
    LeadFactory(company="Other", email="bxc@example.com")

    def found(text):
        return {lead.email for lead in leads_matching(Lead.objects.all(), text)}

    assert found("100%") == {"a@example.com"}
    assert found("b_c") == {"b_c@example.com"}


def search_plan(text) -> str:
    """The plan of a search of every lead for ``text``.

    Every lead: on a tiny table, a partial index on unarchived leads (lead_score_idx)
    would be as cheap a way to read the unarchived ones.
    """
    query = leads_matching(Lead.objects.all(), text)
    sql, params = query.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny test tables are cheaper to scan; only an index matching the condition remains.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_search_is_answered_from_the_trigram_index():
    """The index of migration leads.0005 is built on the search's exact expression."""
    assert "lead_search_trgm_idx" in search_plan("tanaka kumo")


@pytest.mark.postgres
def test_search_for_an_email_asks_the_index_for_its_name_only():
    """The domain's letters are shared by many leads: the whole email is checked on the rows found."""
    plan = search_plan("aiko.tanaka@kumo.example")
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "%AIKO.TANAKA%" in index_condition
    assert "KUMO" not in index_condition


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny test tables are cheaper to scan and sort; what remains is reading an index in order.
        for setting in (
            "enable_seqscan",
            "enable_sort",
            "enable_incremental_sort",
            "enable_bitmapscan",
        ):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("page", "index"),
    [
        ("team inbox", "lead_team_inbox_idx"),
        ("pool", "lead_pool_idx"),
        ("list of won leads", "lead_stage_created_idx"),
        ("API list of won leads", "lead_stage_id_idx"),
        ("review queue", "lead_review_idx"),
        ("review queue, one reason", "lead_review_reason_idx"),
        ("list of new leads", "lead_new_created_idx"),
        ("list by score", "lead_score_idx"),
        ("list of MQLs by score", "lead_stage_score_idx"),
        ("list, the keys of a deep page", "lead_created_idx"),
    ],
)
def test_each_page_reads_its_partial_index_in_order(page, index, manager):
    from apps.leads.filters import ReviewFilter
    from apps.leads.selectors import (
        inbox_for_user,
        leads_for_user,
        mql_pool_for_user,
        rejected_for_review,
    )

    queries = {
        "team inbox": lambda: inbox_for_user(manager),
        "pool": lambda: mql_pool_for_user(manager),
        "list of won leads": lambda: (
            leads_for_user(manager).filter(stage="won").order_by("-created_at", "-id")
        ),
        "API list of won leads": lambda: (
            leads_for_user(manager).filter(stage="won").order_by("-id")
        ),
        "list of new leads": lambda: (
            leads_for_user(manager).filter(stage="new").order_by("-created_at", "-id")
        ),
        "list by score": lambda: leads_for_user(manager).order_by("-score", "-id"),
        "list of MQLs by score": lambda: (
            leads_for_user(manager).filter(stage="mql").order_by("-score", "-id")
        ),
        "list, the keys of a deep page": lambda: (
            leads_for_user(manager).order_by("-created_at", "-id").values("pk")
        ),
        "review queue": lambda: ReviewFilter(None, queryset=rejected_for_review(manager)).qs,
        "review queue, one reason": lambda: (
            ReviewFilter({"reason": "no_budget"}, queryset=rejected_for_review(manager)).qs
        ),
    }
    # As in production, most leads are new: one other stage is the rarer condition.
    LeadFactory.create_batch(20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    assert index in plan_of(queries[page]()[:50])
