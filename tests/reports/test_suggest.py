"""Suggested MQL criteria: replayed candidates whose MQL→SQL lands in the target band."""

import numpy as np
import pytest
from django.utils import translation

from apps.criteria import rules
from apps.reports.cohort_signals import KINDS, Profiles, Vocabulary
from apps.reports.suggest import (
    MIN_CANDIDATE_MQLS,
    OUT_OF_REACH,
    TOO_LITTLE_HISTORY,
    FitOption,
    Population,
    SearchSpace,
    evaluate,
    suggestions_for_window,
)
from tests.reports.funnels import (
    LOOSE,
    NOW,
    WINDOW,
    build_funnel,
    indistinguishable,
    queries_made,
    worked_example,
    worked_example_specs,
)

# --- the vectorised replay against a lead-by-lead one ---------------------------------------------


def synthetic(seed: int, n: int = 200):
    """A random population, consistent as real ones are: before the window ⊆ at its end."""
    rng = np.random.default_rng(seed)
    vocabularies = {"industries": Vocabulary("lower"), "countries": Vocabulary("upper")}
    industries = vocabularies["industries"].encode(
        rng.choice(["software", "finance", "retail", ""], n).tolist()
    )
    countries = vocabularies["countries"].encode(rng.choice(["JP", "US", "DE", ""], n).tolist())
    kinds = rng.integers(0, 1 << len(KINDS), n)
    engagements = rng.integers(0, 12, n)
    return (
        Population(
            score=rng.integers(0, 40, n),
            engagements=engagements,
            kinds=kinds,
            score_before=rng.integers(0, 20, n) * (rng.random(n) < 0.3),
            engagements_before=np.minimum(engagements, rng.integers(0, 4, n)),
            kinds_before=kinds & rng.integers(0, 1 << len(KINDS), n) * (rng.random(n) < 0.3),
            profiles=Profiles(
                employees=np.where(rng.random(n) < 0.1, -1, rng.integers(0, 3000, n)),
                industry=industries,
                country=countries,
            ),
            reached_sql=rng.random(n) < 0.2,
        ),
        vocabularies,
    )


SPACE = SearchSpace(
    score_levels=np.array([0, 3, 10, 25]),
    engagement_levels=np.array([0, 1, 3, 6]),
    kind_sets=[
        frozenset(),
        frozenset({"pricing_page_view"}),
        frozenset({"pricing_page_view", "demo_request"}),
    ],
    fit_options=[
        FitOption(False, rules.FitRuleValues()),
        FitOption(True, rules.FitRuleValues()),
        FitOption(True, rules.FitRuleValues(employees_min=None, employees_max=1000)),
        FitOption(
            True,
            rules.FitRuleValues(
                employees_min=10, employees_max=None, industries=frozenset({"software", "retail"})
            ),
        ),
        FitOption(
            True,
            rules.FitRuleValues(
                employees_min=200,
                employees_max=2000,
                industries=frozenset({"finance"}),
                countries=frozenset({"JP", "DE"}),
            ),
        ),
    ],
)


def met(rule, fit_rule, required, *, score, engagements, kinds, employees, industry, country):
    fit = rules.evaluate_fit(fit_rule, employees=employees, industry=industry, country=country)
    return not rules.mql_unmet(
        rule,
        score=score,
        engagement_count=engagements,
        kinds={k for i, k in enumerate(KINDS) if kinds >> i & 1},
        fit=fit.verdict if required else rules.FIT_PASS,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_the_vectorised_replay_counts_what_a_lead_by_lead_replay_counts(seed):
    population, vocabularies = synthetic(seed)
    grid = evaluate(SPACE, population, vocabularies)
    texts = {
        "industry": [
            "" if c < 0 else vocabularies["industries"].values[c]
            for c in population.profiles.industry
        ],
        "country": [
            "" if c < 0 else vocabularies["countries"].values[c]
            for c in population.profiles.country
        ],
    }
    # What each lead had at the window's end, and just before the window started.
    moments = (
        (population.score, population.engagements, population.kinds),
        (population.score_before, population.engagements_before, population.kinds_before),
    )

    for k, kind_set in enumerate(SPACE.kind_sets):
        for f, option in enumerate(SPACE.fit_options):
            for i, score_level in enumerate(SPACE.score_levels):
                for j, engagement_level in enumerate(SPACE.engagement_levels):
                    rule = rules.MQLRule(
                        score_threshold=int(score_level),
                        min_engagements=int(engagement_level),
                        required_kinds=kind_set,
                        fit_required=option.required,
                    )
                    mqls = sqls = 0
                    for n in range(len(population.score)):
                        profile = {
                            "employees": None
                            if population.profiles.employees[n] < 0
                            else int(population.profiles.employees[n]),
                            "industry": texts["industry"][n],
                            "country": texts["country"][n],
                        }
                        at_end, before = (
                            met(
                                rule,
                                option.rule,
                                option.required,
                                score=int(score[n]),
                                engagements=int(engagements[n]),
                                kinds=int(kinds[n]),
                                **profile,
                            )
                            for score, engagements, kinds in moments
                        )
                        if at_end and not before:
                            mqls += 1
                            sqls += bool(population.reached_sql[n])
                    assert (grid.mqls[k, f, i, j], grid.sqls[k, f, i, j]) == (mqls, sqls), (
                        rule,
                        option,
                    )


# --- over the database ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worked_example_suggests_its_28_percent_keeping_the_sqls(tokyo, history):
    worked_example(history)

    with translation.override("en"):
        suggestions = suggestions_for_window(window=WINDOW, now=NOW)

    assert (suggestions.mqls, suggestions.sqls) == (390, 31)
    assert suggestions.reason is None
    assert suggestions.active.rate == pytest.approx(31 / 390)  # the replay reproduces history
    assert 1 <= len(suggestions.candidates) <= 6
    assert all(0.20 <= c.rate <= 0.30 for c in suggestions.candidates)
    worked = [c for c in suggestions.candidates if abs(c.rate - 0.28) <= 0.02]
    assert worked, [(c.rate, c.changes) for c in suggestions.candidates]
    best = max(worked, key=lambda c: c.sqls)
    assert best.sqls_kept >= 0.9  # 28 of the 31 SQLs
    assert best.mqls_per_week == pytest.approx(100 / 12, abs=1)  # from 32.5 a week
    words = "; ".join(best.changes)
    assert "pricing page view" in words
    assert "employees 50–500" in words
    assert best.fit_rule_change(suggestions.current_fit)["employees_min"] == 50
    # A front: listed by SQLs kept, and no listed candidate keeps more SQLs with fewer MQLs.
    kept = [c.sqls for c in suggestions.candidates]
    assert kept == sorted(kept, reverse=True)
    for a in suggestions.candidates:
        assert not any(
            b is not a and b.sqls >= a.sqls and b.mqls < a.mqls for b in suggestions.candidates
        )


@pytest.mark.django_db
def test_when_the_converters_look_like_everyone_else_it_says_no_criteria_reach_the_band(
    tokyo, history
):
    indistinguishable(history)

    suggestions = suggestions_for_window(window=WINDOW, now=NOW)

    assert (suggestions.mqls, suggestions.sqls) == (200, 16)
    assert suggestions.candidates == []
    assert suggestions.reason == OUT_OF_REACH
    assert suggestions.closest.rate == pytest.approx(0.08)
    assert suggestions.evaluated > 1000


@pytest.mark.django_db
def test_a_window_with_too_few_mqls_suggests_nothing(tokyo, history):
    history.publish_criteria(**LOOSE)
    build_funnel(history, worked_example_specs()[:20])

    suggestions = suggestions_for_window(window=WINDOW, now=NOW)

    assert suggestions.reason == TOO_LITTLE_HISTORY and suggestions.candidates == []


@pytest.mark.django_db
def test_suggestions_cost_the_same_few_queries_whatever_the_number_of_leads(tokyo, history):
    def queries():
        return queries_made(lambda: suggestions_for_window(window=WINDOW, now=NOW))

    history.publish_criteria(**LOOSE)
    specs = worked_example_specs()
    build_funnel(history, specs[:40])
    few = queries()
    build_funnel(history, specs[40:120], offset=40)

    # The rules and three streamed queries, each in a savepoint (with its local settings on
    # PostgreSQL): a fixed number, whatever the number of leads.
    assert queries() == few <= 16


# --- the page --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_the_front_in_words_with_draft_buttons_for_admins_only(
    tokyo, history, client, admin_user, marketer, at_now
):
    worked_example(history)
    client.force_login(admin_user)

    response = client.get("/reports/suggestions/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="candidate"') == len(response.context["rows"]) >= 1
    assert "require at least one pricing page view" in page
    assert "employees 50–500 (was employees 10–5,000)" in page
    assert page.count('data-testid="make-draft"') == len(response.context["rows"])
    assert '<svg class="chart chart-front"' in page
    assert "firmographics are not versioned" in page
    client.force_login(marketer)
    as_marketer = client.get("/reports/suggestions/").content.decode()
    assert 'data-testid="candidate"' in as_marketer
    assert 'data-testid="make-draft"' not in as_marketer


@pytest.mark.django_db
def test_the_band_can_be_changed_on_the_page(tokyo, history, client, admin_user, at_now):
    worked_example(history)
    client.force_login(admin_user)

    response = client.get("/reports/suggestions/", {"low": "10", "high": "15"})

    assert response.status_code == 200
    assert response.context["suggestions"].band == (0.10, 0.15)
    rows = response.context["rows"]
    assert rows and all(0.10 <= row.candidate.rate <= 0.15 for row in rows)
    assert all(row.candidate.mqls >= MIN_CANDIDATE_MQLS for row in rows)
    assert 'name="low" value="10"' in response.content.decode()


@pytest.mark.django_db
def test_the_page_says_plainly_when_no_criteria_reach_the_band(
    tokyo, history, client, team, at_now
):
    indistinguishable(history)
    client.force_login(team["maya"])

    page = client.get("/reports/suggestions/").content.decode()

    assert 'data-reason="out_of_reach"' in page
    assert "No criteria reach 20.0%–30.0% over these weeks" in page
    assert "there is nothing sensible to suggest" in page
    assert 'data-testid="candidate"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, message",
    [
        ({"low": "30", "high": "20"}, "from a lower to a higher rate"),
        ({"low": "-5"}, "greater than or equal to 0"),
        ({"high": "abc"}, "Enter a number"),
    ],
)
def test_a_bad_band_is_a_400_naming_the_problem(client, admin_user, at_now, query, message):
    client.force_login(admin_user)

    response = client.get("/reports/suggestions/", query)

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.django_db
def test_a_rep_may_not_see_the_suggestions(client, rep):
    client.force_login(rep)

    assert client.get("/reports/suggestions/").status_code == 403
