import datetime as dt
import random
import sys
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from apps.accounts.roles import MARKETING, SALES, SALES_MANAGER
from apps.criteria import rules
from apps.criteria.models import (
    DisqualifyReason,
    FitRule,
    LeadSource,
    MQLCriteria,
    RejectReason,
    ScoringSettings,
    SLAPolicy,
    SQLCriteria,
)
from apps.leads.models import Lead, Stage
from apps.leads.services import (
    EngagementInput,
    engagements_record,
    history_replay,
    lead_transition,
    lead_upsert,
)
from apps.leads.transitions import TRANSITIONS

HISTORY = dt.timedelta(weeks=8)
SESSION_SPACING = dt.timedelta(minutes=4)  # between a visitor's clicks in one session


# --- demo users ----------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    first_name: str
    last_name: str
    group: str | None = None
    is_admin: bool = False


DEMO_USERS = (
    DemoUser("admin", "admin (staff)", "demo-admin", "Ada", "Admin", is_admin=True),
    DemoUser("maya", "marketer", "demo-marketing", "Maya", "Marsh", group=MARKETING),
    DemoUser("mona", "sales manager", "demo-manager", "Mona", "Meyer", group=SALES_MANAGER),
    DemoUser("rita", "sales rep", "demo-sales", "Rita", "Reyes", group=SALES),
    DemoUser("sam", "sales rep", "demo-sales", "Sam", "Sato", group=SALES),
    DemoUser("kenji", "sales rep", "demo-sales", "Kenji", "Kato", group=SALES),
)
MARKETER, MANAGER = "maya", "mona"
OWNER = "owner"  # a step made by whoever owns the lead at that moment


# --- what demo leads are made of -----------------------------------------------

# (name, country, industry, employees): the default fit rule (50–500 employees)
# passes the first list, fails the second and cannot decide the third.
FIT_COMPANIES = [
    ("Kumo Systems", "JP", "software", 140),
    ("Hikari Logistics", "JP", "logistics", 320),
    ("Sakura Fintech", "JP", "finance", 85),
    ("Aozora Medical Devices", "JP", "healthcare", 410),
    ("Minato Retail Group", "JP", "retail", 260),
    ("Tsubasa Robotics", "JP", "manufacturing", 190),
    ("Northwind Analytics", "US", "software", 120),
    ("Bluebird Payments", "US", "finance", 230),
    ("Cedar Health Partners", "US", "healthcare", 380),
    ("Granite Freight", "US", "logistics", 450),
    ("Lakeshore Learning Labs", "US", "education", 95),
    ("Summit Cloudworks", "US", "software", 60),
    ("Redwood Manufacturing", "US", "manufacturing", 300),
    ("Harbor Media Co.", "US", "media", 150),
    ("Copperline Energy", "US", "energy", 275),
    ("Brightpath Consulting", "GB", "consulting", 70),
    ("Thames Data", "GB", "software", 210),
    ("Albion Insurance Services", "GB", "finance", 480),
    ("Nordlicht Software", "DE", "software", 160),
    ("Atelier Numérique", "FR", "media", 55),
    ("Rheinwerk Maschinenbau", "DE", "manufacturing", 350),
    ("Merlion Pay", "SG", "finance", 110),
    ("Maple Leaf Telecom", "CA", "telecom", 420),
    ("Outback Supply Co.", "AU", "retail", 130),
    ("Tulip Logistics", "NL", "logistics", 240),
    ("Bangalore CloudOps", "IN", "software", 330),
    ("Fjord Health", "SE", "healthcare", 180),
    ("Ipê Agritech", "BR", "manufacturing", 90),
]
UNFIT_COMPANIES = [
    ("Tiny Pixel Studio", "US", "media", 8),
    ("Garage Apps", "US", "software", 3),
    ("Hoshi Design", "JP", "consulting", 12),
    ("Megacorp Industries", "US", "manufacturing", 42000),
    ("Nippon Global Trading", "JP", "retail", 8800),
    ("Continental Bank", "DE", "finance", 15000),
    ("Acme Global", "GB", "consulting", 2300),
    ("Two Pines Bakery", "CA", "retail", 14),
]
UNKNOWN_FIT_COMPANIES = [
    ("Quietwater Ventures", "US", "finance", None),
    ("Yamato Partners", "JP", "consulting", None),
    ("Greenfield Schools", "CA", "education", None),
    ("Lumen Ops", "NL", "software", None),
    ("Osaka Fresh Foods", "JP", "", None),
    ("Pioneer Telecom", "US", "telecom", None),
]
NAMES = {
    "JP": (
        ["Aiko", "Haruto", "Yui", "Ren", "Sakura", "Kenta", "Naoko", "Takeshi", "Emi", "Daiki"],
        ["Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi"],
    ),
    "DE": (["Lukas", "Anna", "Jonas", "Lea", "Felix"], ["Müller", "Schmidt", "Weber", "Fischer"]),
    "FR": (["Camille", "Louis", "Chloé", "Hugo"], ["Martin", "Bernard", "Dubois", "Moreau"]),
    "BR": (["Ana", "João", "Mariana", "Pedro"], ["Silva", "Santos", "Oliveira", "Souza"]),
    "IN": (["Priya", "Arjun", "Ananya", "Rahul"], ["Sharma", "Patel", "Iyer", "Reddy"]),
    "": (
        ["Emily", "Michael", "Sarah", "David", "Jessica", "James", "Olivia", "Daniel", "Grace"],
        ["Johnson", "Smith", "Williams", "Brown", "Miller", "Davis", "Garcia", "Wilson", "Lee"],
    ),
}
DIALLING_CODES = {
    "US": "1",
    "CA": "1",
    "JP": "81",
    "GB": "44",
    "DE": "49",
    "FR": "33",
    "AU": "61",
    "NL": "31",
    "SG": "65",
    "IN": "91",
    "SE": "46",
    "BR": "55",
}
SENIOR_TITLES = ["CEO", "COO", "VP Sales", "VP Marketing", "Head of Revenue Operations", "CTO"]
OTHER_TITLES = [
    "Sales Operations Manager",
    "Marketing Manager",
    "IT Manager",
    "Demand Generation Lead",
    "Procurement Manager",
    "Business Analyst",
    "Marketing Coordinator",
]
SOURCE_WEIGHTS = {
    "website": 25,
    "webinar": 15,
    "content": 15,
    "ads": 12,
    "event": 10,
    "email": 8,
    "referral": 6,
    "partner": 5,
    "import": 2,
    "other": 2,
}
CAMPAIGNS = {
    "website": ["", "Organic search"],
    "webinar": ["Webinar: Fixing the MQL handoff", "Webinar: Lead scoring that sales trusts"],
    "content": ["Ebook: The SLA playbook", "Report: B2B funnel benchmarks"],
    "ads": ["LinkedIn: RevOps leaders", "Search: lead routing software"],
    "event": ["SaaStr Annual booth", "Japan IT Week booth"],
    "email": ["Newsletter", "Nurture: pricing follow-up"],
}
PAGES = ["/", "/features", "/customers", "/integrations", "/blog/lead-scoring-101", "/security"]

# Engagements that warm a lead up without making it an MQL on their own (weighted).
NURTURE_KINDS = {
    "page_view": 6,
    "email_click": 3,
    "content_download": 3,
    "webinar_registration": 2,
    "webinar_attendance": 1,
    "event_visit": 1,
    "inquiry": 1,
    "document_request": 1,
}
COLD_KINDS = {"page_view": 3, "email_click": 2, "content_download": 1}
# What a buyer adds to the required kinds in the session that tips them over.
BUYING_KINDS = [
    "demo_request",
    "quote_request",
    "document_request",
    "webinar_attendance",
    "inquiry",
]

REJECT_REASON_WEIGHTS = {
    "not_a_fit": 3,
    "no_budget": 3,
    "bad_timing": 2,
    "no_need": 2,
    "no_authority": 2,
    "bad_contact_data": 1,
    "duplicate": 1,
    "competitor": 1,
    "existing_customer": 1,
}
# Rejections that marketing goes on to disqualify, with the disqualify reason each maps to.
DISQUALIFYING_REJECTIONS = {
    "duplicate": "duplicate",
    "competitor": "competitor",
    "existing_customer": "existing_customer",
    "bad_contact_data": "bad_data",
}
REJECT_NOTES = [
    "",
    "",
    "Student project, no company budget",
    "Already talking to our partner",
    "Wants a free tool only",
    "Contact left the company",
]
RESUBMIT_NOTES = [
    "Came back to the pricing page twice this week; worth another call",
    "Budget confirmed by their CFO by email",
    "New contact at the same account is the decision maker",
    "Re-engaged after the nurture sequence and asked for a demo",
]
HAND_PROMOTE_REASONS = [
    "Met at our booth and asked for a demo",
    "Referred by a partner with a live project",
    "Called the sales line asking for a quote",
]
NEEDS = [
    "Route web leads to reps within minutes instead of days",
    "Replace the spreadsheet hand-off between marketing and sales",
    "Score leads from webinar and event engagement",
    "Give managers SLA visibility across three regions",
    "Report MQL to SQL conversion by campaign to the board",
]
LOSE_REASONS = [
    "Chose a competitor",
    "Budget frozen for this fiscal year",
    "No decision; project shelved",
    "Built it in-house",
    "Stayed with their existing CRM vendor",
]

# Each block of 40 leads ends in exactly these outcomes (shuffled), so even a
# small --leads fills every page: inboxes, review queue, pipeline, closed deals.
OUTCOME_DECK = {
    "cold": 9,
    "warm": 5,
    "unfit": 3,
    "spam": 1,
    "recycled": 2,
    "disqualified": 1,
    "rejected_waiting": 3,
    "mql_waiting": 2,
    "mql_overdue": 1,
    "mql_resubmitted": 1,
    "accepted": 4,
    "sql": 3,
    "opportunity": 2,
    "won": 2,
    "lost": 1,
}
NURTURE_OUTCOMES = {"cold", "warm", "unfit"}
WORKED_OUTCOMES = {"accepted", "sql", "opportunity", "won", "lost"}


def ascii_slug(text: str, sep: str = "-") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return sep.join("".join(c if c.isalnum() else " " for c in plain).split())


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


# --- one lead's story ----------------------------------------------------------


@dataclass
class Step:
    delay: dt.timedelta  # after the previous step (or the promotion)
    name: str
    actor: str  # OWNER or a demo username
    data: dict = field(default_factory=dict)
    at: dt.datetime | None = None


@dataclass
class LeadPlan:
    email: str
    profile: dict
    outcome: str
    # (time of the session's last engagement, kinds in the order they happened)
    sessions: list[tuple[dt.datetime, list[str]]] = field(default_factory=list)
    hand_promote_at: dt.datetime | None = None
    hand_promote_reason: str = ""
    steps: list[Step] = field(default_factory=list)

    @property
    def first_touch(self) -> dt.datetime:
        end, kinds = self.sessions[0]
        return end - SESSION_SPACING * len(kinds)


@dataclass(frozen=True)
class ActiveRules:
    """The admin-edited rules the stories must respect, read once."""

    table: rules.ScoringTable
    mql: rules.MQLRule
    bant: rules.BANTRule
    sources: list[str]
    reject_reasons: list[str]
    disqualify_reasons: list[str]

    def points(self, kinds) -> int:
        return sum(self.table.points.get(kind, 0) for kind in kinds)


class StoryTeller:
    """Plans, without touching the database, what happens to each demo lead and when.

    Lead ``index`` draws from its own random stream, so its story does not
    depend on how many leads are seeded.
    """

    def __init__(self, *, seed: int, now: dt.datetime, active: ActiveRules):
        self.seed, self.now, self.rules = seed, now, active
        self.start = now - HISTORY

    def outcome_for(self, index: int) -> str:
        block, position = divmod(index, sum(OUTCOME_DECK.values()))
        deck = [outcome for outcome, n in OUTCOME_DECK.items() for _ in range(n)]
        random.Random(f"{self.seed}:deck:{block}").shuffle(deck)
        return deck[position]

    def plan(self, index: int, taken_emails: set[str]) -> LeadPlan:
        rng = random.Random(f"{self.seed}:lead:{index}")
        outcome = self.outcome_for(index)
        reaches_mql = outcome not in NURTURE_OUTCOMES | {"spam"}
        hand_promoted = reaches_mql and rng.random() < 0.1
        email, profile = self._profile(rng, outcome, hand_promoted, taken_emails)
        plan = LeadPlan(email=email, profile=profile, outcome=outcome)
        if outcome == "spam":
            self._plan_spam(rng, plan)
        elif reaches_mql:
            self._plan_mql_story(rng, plan, hand_promoted)
        else:
            self._plan_nurture(rng, plan)
        return plan

    # --- who the lead is

    def _profile(self, rng, outcome, hand_promoted, taken_emails) -> tuple[str, dict]:
        sources = self.rules.sources
        source = rng.choices(sources, [SOURCE_WEIGHTS.get(s, 1) for s in sources])[0]
        campaign = rng.choice(CAMPAIGNS.get(source, [""]))
        if outcome == "spam":
            email = self._unique(f"asdf{rng.randint(10, 9999)}@mailinator.example", taken_emails)
            return email, {
                "first_name": "asdf",
                "last_name": "asdf",
                "company": "test",
                "source": source,
                "campaign": campaign,
            }
        if outcome == "unfit":
            pool = UNFIT_COMPANIES if rng.random() < 0.6 else UNKNOWN_FIT_COMPANIES
        elif hand_promoted:
            pool = UNKNOWN_FIT_COMPANIES if rng.random() < 0.7 else FIT_COMPANIES
        elif outcome in NURTURE_OUTCOMES:
            pools = [FIT_COMPANIES, UNFIT_COMPANIES, UNKNOWN_FIT_COMPANIES]
            pool = rng.choices(pools, [70, 18, 12])[0]
        else:
            pool = FIT_COMPANIES
        company, country, industry, employees = rng.choice(pool)
        firsts, lasts = NAMES.get(country, NAMES[""])
        first, last = rng.choice(firsts), rng.choice(lasts)
        email = self._unique(
            f"{ascii_slug(first, '')}.{ascii_slug(last, '')}@{ascii_slug(company)}.example",
            taken_emails,
        )
        phone = ""
        if rng.random() < 0.7:
            code = DIALLING_CODES.get(country, "1")
            phone = f"+{code} 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        return email, {
            "first_name": first,
            "last_name": last,
            "company": company,
            "employees": employees,
            "title": rng.choice(SENIOR_TITLES if rng.random() < 0.4 else OTHER_TITLES),
            "industry": industry,
            "country": country,
            "phone": phone,
            "source": source,
            "campaign": campaign,
        }

    @staticmethod
    def _unique(email: str, taken: set[str]) -> str:
        local, domain = email.split("@")
        candidate, n = email, 1
        while candidate in taken:
            n += 1
            candidate = f"{local}{n}@{domain}"
        taken.add(candidate)
        return candidate

    # --- what the lead does

    def _session(self, rng, weights: dict[str, int], n: int, budget: int | None = None):
        """Up to ``n`` engagements drawn from ``weights``, worth at most ``budget`` points.

        May come back empty when the budget is spent; ``_sessions`` drops those.
        """
        kinds: list[str] = []
        for _ in range(n):
            kind = rng.choices(list(weights), list(weights.values()))[0]
            points = self.rules.points([kind])
            if budget is not None:
                if points > budget:
                    continue
                budget -= points
            kinds.append(kind)
        return kinds

    @staticmethod
    def _sessions(times, kinds_by_session) -> list[tuple[dt.datetime, list[str]]]:
        return [(at, kinds) for at, kinds in zip(times, kinds_by_session, strict=True) if kinds]

    def _nurture_kinds(self) -> dict[str, int]:
        return {k: w for k, w in NURTURE_KINDS.items() if k not in self.rules.mql.required_kinds}

    def _nurture_below_threshold(self, rng, sessions: int) -> list[list[str]]:
        """Nurture sessions that never reach the MQL threshold nor do a required kind."""
        budget = self.rules.mql.score_threshold - 1
        result = []
        for _ in range(sessions):
            kinds = self._session(rng, self._nurture_kinds(), rng.randint(1, 3), budget)
            budget -= self.rules.points(kinds)
            result.append(kinds)
        return result

    def _buying_session(self, rng, before: list[list[str]]) -> list[str]:
        """The session that meets the MQL criteria: every required kind and enough points."""
        kinds = sorted(self.rules.mql.required_kinds)
        if rng.random() < 0.5:
            kinds.insert(0, "page_view")
        earlier = [kind for session in before for kind in session]
        score = self.rules.points(earlier) + self.rules.points(kinds)
        count = len(earlier) + len(kinds)
        while score < self.rules.mql.score_threshold or count < self.rules.mql.min_engagements:
            kind = rng.choice(BUYING_KINDS)
            kinds.append(kind)
            score, count = score + max(self.rules.points([kind]), 1), count + 1
        return kinds

    @staticmethod
    def _times_between(rng, first: dt.datetime, last: dt.datetime, count: int) -> list[dt.datetime]:
        """``count`` session times from ``first`` to ``last`` (both included when count > 1)."""
        if count == 1:
            return [first]
        span = max((last - first).total_seconds(), 0)
        middle = sorted(
            first + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(count - 2)
        )
        return [first, *middle, last]

    def _plan_nurture(self, rng, plan: LeadPlan) -> None:
        """cold, warm and unfit leads: engagement only, never an MQL under the default rules."""
        first = self.now - hours(rng.uniform(1, HISTORY / hours(1) - 1))
        last = min(first + days(rng.uniform(1, 25)), self.now - hours(0.5))
        if plan.outcome == "cold":
            times = self._times_between(rng, first, last, rng.randint(1, 2))
            plan.sessions = self._sessions(
                times, [self._session(rng, COLD_KINDS, rng.randint(1, 2)) for _ in times]
            )
        elif plan.outcome == "warm":
            times = self._times_between(rng, first, last, rng.randint(2, 5))
            # Half of them did everything required but scored too little; half never did.
            if rng.random() < 0.5:
                required = sorted(self.rules.mql.required_kinds)
                budget = self.rules.mql.score_threshold - 1 - self.rules.points(required)
                kinds_by_session = []
                for _ in times:
                    kinds = self._session(rng, self._nurture_kinds(), rng.randint(1, 3), budget)
                    budget -= self.rules.points(kinds)
                    kinds_by_session.append(kinds)
                kinds_by_session[-1].extend(required)
            else:
                kinds_by_session = [
                    self._session(rng, self._nurture_kinds(), rng.randint(1, 3)) for _ in times
                ]
            plan.sessions = self._sessions(times, kinds_by_session)
        else:  # unfit: behaves like a buyer, but the fit rule keeps it away from sales
            times = self._times_between(rng, first, last, rng.randint(2, 4))
            before = [
                self._session(rng, self._nurture_kinds(), rng.randint(1, 2)) for _ in times[1:]
            ]
            plan.sessions = self._sessions(times, [*before, self._buying_session(rng, before)])

    def _plan_spam(self, rng, plan: LeadPlan) -> None:
        created = self.now - hours(rng.uniform(6, HISTORY / hours(1) - 1))
        plan.sessions = [(created, ["page_view"])]
        reason = self._disqualify_reason("spam")
        plan.steps = [Step(hours(rng.uniform(1, 72)), "disqualify", MARKETER, {"reason": reason})]
        self._place(plan.steps, start=created)

    # --- what sales and marketing do with it

    def _plan_mql_story(self, rng, plan: LeadPlan, hand_promoted: bool) -> None:
        steps = self._steps_after_promotion(rng, plan)
        mql_at = self._promotion_time(rng, plan.outcome, steps)
        self._place(steps, start=mql_at)
        for step in steps:
            if step.name == "qualify":
                step.data = self._bant(rng, step.at, senior=plan.profile["title"] in SENIOR_TITLES)
            elif step.name == "convert":
                step.data = self._deal(rng, step.at, next(s for s in steps if s.name == "qualify"))
        plan.steps = steps

        lead_time = min(18.0, (mql_at - self.start - hours(1)) / days(1))
        first_touch = mql_at - days(rng.uniform(min(0.5, lead_time), lead_time))
        plan.hand_promote_at = mql_at
        if hand_promoted:
            last = max(mql_at - hours(rng.uniform(1, 48)), first_touch)
            times = self._times_between(rng, first_touch, last, rng.randint(1, 3))
            plan.sessions = self._sessions(
                times,
                [self._session(rng, self._nurture_kinds(), rng.randint(1, 2)) for _ in times],
            )
            plan.hand_promote_reason = rng.choice(HAND_PROMOTE_REASONS)
        else:
            # Nurture below the threshold first, so the buying session is the one that promotes.
            times = self._times_between(rng, first_touch, mql_at, rng.randint(2, 5))
            before = self._nurture_below_threshold(rng, len(times) - 1)
            plan.sessions = self._sessions(times, [*before, self._buying_session(rng, before)])
            # Only used if the admin's criteria do not promote it: marketing then does, by hand.
            plan.hand_promote_reason = "Asked for pricing and a demo"

    def _steps_after_promotion(self, rng, plan: LeadPlan) -> list[Step]:
        outcome = plan.outcome
        steps: list[Step] = []
        if outcome in WORKED_OUTCOMES and rng.random() < 0.15:
            # Rejected once, disputed by marketing, then worked after all.
            steps += [self._reject(rng, self._response(rng)), self._resubmit(rng)]
        if outcome in {"rejected_waiting", "recycled", "disqualified"}:
            disqualifying = outcome == "disqualified"
            if rng.random() < 0.3:
                steps.append(self._accept(rng))
                after = hours(rng.uniform(3, 40))
                steps.append(self._reject(rng, after, disqualifying=disqualifying))
            else:
                steps.append(self._reject(rng, self._response(rng), disqualifying=disqualifying))
            if outcome == "recycled":
                note = {"note": "Back to nurture"}
                steps.append(Step(self._review(rng), "recycle", MARKETER, note))
            elif outcome == "disqualified":
                mapped = DISQUALIFYING_REJECTIONS.get(steps[-1].data["reason"], "bad_data")
                reason = self._disqualify_reason(mapped)
                steps.append(Step(self._review(rng), "disqualify", MARKETER, {"reason": reason}))
        elif outcome == "mql_resubmitted":
            steps += [self._reject(rng, self._response(rng)), self._resubmit(rng)]
        if outcome in WORKED_OUTCOMES:
            steps.append(self._accept(rng))
        if outcome in {"sql", "opportunity", "won", "lost"}:
            steps.append(Step(hours(rng.uniform(4, 96)), "qualify", OWNER))
        if outcome in {"opportunity", "won", "lost"}:
            steps.append(Step(hours(rng.uniform(24, 240)), "convert", OWNER))
        if outcome == "won":
            data = {"note": "Signed an annual contract"}
            steps.append(Step(days(rng.uniform(5, 20)), "win", OWNER, data))
        elif outcome == "lost":
            data = {"reason": rng.choice(LOSE_REASONS)}
            steps.append(Step(days(rng.uniform(5, 20)), "lose", OWNER, data))
        return steps

    def _promotion_time(self, rng, outcome: str, steps: list[Step]) -> dt.datetime:
        """When the lead became an MQL, so that its last step lands where its outcome needs."""
        # Leads still waiting for someone got there recently; the others became
        # MQLs any time in the eight weeks, so every week has a cohort.
        quiet_for = {
            "mql_waiting": hours(rng.uniform(0.5, 20)),  # accept deadline still ahead
            "mql_overdue": hours(rng.uniform(27, 80)),  # accept deadline passed
            "mql_resubmitted": hours(rng.uniform(1, 18)),
            "rejected_waiting": hours(rng.uniform(2, 14 * 24)),
            "accepted": hours(rng.uniform(1, 21 * 24)),
        }.get(outcome)
        earliest = self.start + days(2)  # room for the engagements that led up to it
        chain = sum((step.delay for step in steps), dt.timedelta())
        if quiet_for is None:
            quiet_for = hours(2)
            mql_at = earliest + (self.now - quiet_for - chain - earliest) * rng.random()
        else:
            mql_at = self.now - quiet_for - chain
        if mql_at < earliest:  # too long a story for eight weeks: tell it faster
            squeeze = max((self.now - quiet_for - earliest) / max(chain, hours(1)), 0.01)
            for step in steps:
                step.delay *= squeeze
            mql_at = max(earliest, self.now - quiet_for - chain * squeeze)
        return mql_at

    def _place(self, steps: list[Step], *, start: dt.datetime) -> None:
        at = start
        for step in steps:
            at = min(at + step.delay, self.now - dt.timedelta(minutes=5))
            step.at = at

    @staticmethod
    def _response(rng) -> dt.timedelta:
        roll = rng.random()
        if roll < 0.6:
            return hours(rng.uniform(0.2, 4))
        if roll < 0.9:
            return hours(rng.uniform(4, 20))
        return hours(rng.uniform(26, 40))  # late, so the SLA history has breaches too

    @staticmethod
    def _review(rng) -> dt.timedelta:
        return hours(rng.uniform(4, 96))

    def _accept(self, rng) -> Step:
        delay = self._response(rng)
        # Now and then the manager steps in on an MQL a rep has let slide.
        actor = MANAGER if delay > hours(24) and rng.random() < 0.5 else OWNER
        return Step(delay, "accept", actor)

    def _reject(self, rng, delay: dt.timedelta, *, disqualifying: bool = False) -> Step:
        wanted = DISQUALIFYING_REJECTIONS if disqualifying else REJECT_REASON_WEIGHTS
        codes = [code for code in wanted if code in self.rules.reject_reasons]
        if codes:
            reason = rng.choices(codes, [REJECT_REASON_WEIGHTS.get(code, 1) for code in codes])[0]
        else:
            reason = rng.choice(self.rules.reject_reasons)
        return Step(delay, "reject", OWNER, {"reason": reason, "note": rng.choice(REJECT_NOTES)})

    def _resubmit(self, rng) -> Step:
        return Step(self._review(rng), "resubmit", MARKETER, {"note": rng.choice(RESUBMIT_NOTES)})

    def _disqualify_reason(self, wanted: str) -> str:
        available = self.rules.disqualify_reasons
        return wanted if wanted in available else available[0]

    def _bant(self, rng, at: dt.datetime, *, senior: bool) -> dict:
        """A qualification that meets the SQL criteria on the day it is made."""
        bant = self.rules.bant
        authority = "decision_maker" if senior else "influencer"
        if authority not in bant.accepted_authorities:
            authority = sorted(bant.accepted_authorities)[0]
        floor = max(bant.min_budget, Decimal("10000"))
        budget = floor * Decimal(rng.choice(["1.2", "1.5", "2", "2.5", "4", "6", "9"]))
        # The service checks the timeline against the local date of the transition.
        today = timezone.localdate(at)
        horizon = (rules.add_months(today, bant.max_timeline_months) - today).days
        return {
            "budget_amount": str(budget.quantize(Decimal("1"))),
            "budget_currency": bant.account_currency,
            "authority": authority,
            "need": rng.choice(NEEDS),
            "timeline": (today + days(rng.randint(14, max(horizon - 1, 14)))).isoformat(),
            "notes": rng.choice(["", "Evaluating two vendors", "Pilot with one team first"]),
        }

    @staticmethod
    def _deal(rng, at: dt.datetime, qualify: Step) -> dict:
        share = Decimal(str(round(rng.uniform(0.6, 1.1), 2)))
        amount = Decimal(qualify.data["budget_amount"]) * share
        return {
            "amount": str(amount.quantize(Decimal("1"), ROUND_HALF_UP)),
            "currency": qualify.data["budget_currency"],
            "expected_close_date": (timezone.localdate(at) + days(rng.randint(20, 90))).isoformat(),
        }


# --- the command ---------------------------------------------------------------


class Command(BaseCommand):
    """Demo users for every role and a few hundred leads with eight weeks of history.

    Every lead, engagement and stage change goes through ``apps.leads.services``,
    so scoring, promotion, round-robin assignment and the SLA clocks behave as
    they do for real leads. The data is deterministic for a given ``--seed``
    (relative to the time the command runs), and running the command again
    creates nothing twice: users are updated in place, their passwords reset to
    the printed ones, and leads whose email already exists are skipped.
    """

    help = "Create demo users (passwords printed) and demo leads with eight weeks of history."

    def add_arguments(self, parser):
        parser.add_argument(
            "--leads", type=int, default=300, help="How many demo leads to create (default 300)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed: the same seed makes the same leads."
        )
        parser.add_argument(
            "--logins-only", action="store_true", help="Only print the demo logins; create nothing."
        )

    def handle(self, *args, leads: int, seed: int, logins_only: bool, verbosity: int, **options):
        if logins_only:
            self._print_logins()
            return
        if leads < 0:
            raise CommandError("--leads cannot be negative.")
        users = self._ensure_users()
        if leads:
            created, present = self._seed_leads(
                count=leads, seed=seed, users=users, show_progress=verbosity > 0
            )
            if verbosity > 0:
                self.stdout.write(f"Demo leads: {created} created, {present} already present.")
                self._print_stage_counts()
        self._print_logins()

    # --- users

    def _ensure_users(self) -> dict:
        User = get_user_model()
        users = {}
        for demo in DEMO_USERS:
            user, _created = User.objects.get_or_create(username=demo.username)
            user.first_name, user.last_name = demo.first_name, demo.last_name
            user.email = user.email or f"{demo.username}@leadflow.example"
            user.is_active = True
            user.is_staff = user.is_superuser = demo.is_admin
            user.set_password(demo.password)
            user.save()
            user.groups.set([Group.objects.get(name=demo.group)] if demo.group else [])
            users[demo.username] = user
        return users

    def _print_logins(self) -> None:
        name_width = max(len("username"), *(len(demo.username) for demo in DEMO_USERS)) + 2
        role_width = max(len(demo.role) for demo in DEMO_USERS) + 2
        self.stdout.write("Demo logins:")
        self.stdout.write(f"  {'username':<{name_width}}{'role':<{role_width}}password")
        for demo in DEMO_USERS:
            self.stdout.write(
                f"  {demo.username:<{name_width}}{demo.role:<{role_width}}{demo.password}"
            )

    def _print_stage_counts(self) -> None:
        counts = dict(Lead.objects.order_by().values_list("stage").annotate(n=Count("id")))
        by_stage = ", ".join(f"{stage.value} {counts.get(stage.value, 0)}" for stage in Stage)
        self.stdout.write(f"Leads by stage: {by_stage}")

    # --- leads

    @staticmethod
    def _active_rules() -> ActiveRules:
        def codes(model):
            active = model.objects.filter(is_active=True).order_by("code")
            return list(active.values_list("code", flat=True))

        # Loading the singletons creates any that is missing, with its defaults.
        SLAPolicy.load()
        FitRule.load()
        active = ActiveRules(
            table=ScoringSettings.current_table(),
            mql=MQLCriteria.active().as_rule(),
            bant=SQLCriteria.load().as_rule(),
            sources=codes(LeadSource),
            reject_reasons=codes(RejectReason),
            disqualify_reasons=codes(DisqualifyReason),
        )
        if not (active.sources and active.reject_reasons and active.disqualify_reasons):
            raise CommandError(
                "There are no active lead sources, reject or disqualify reasons; run migrate."
            )
        return active

    def _seed_leads(self, *, count: int, seed: int, users: dict, show_progress: bool):
        """Play the stories of leads 0..count-1 not yet in the database; (created, present)."""
        teller = StoryTeller(seed=seed, now=timezone.now(), active=self._active_rules())
        taken: set[str] = set()
        plans = [teller.plan(index, taken) for index in range(count)]
        emails = [plan.email for plan in plans]
        present = set(Lead.objects.filter(email__in=emails).values_list("email", flat=True))
        todo = [plan for plan in plans if plan.email not in present]
        actors = {user.pk: user for user in users.values()}
        # Replayed history: nobody is told of weeks-old handovers, nor of deadlines missed then.
        with (
            history_replay(),
            tqdm(
                total=len(todo),
                desc="Seeding demo leads",
                unit="lead",
                file=sys.stderr,
                disable=not show_progress,
            ) as progress,
        ):
            for plan in todo:
                self._play(plan, users=users, actors=actors)
                progress.update()
        return len(todo), len(present)

    def _play(self, plan: LeadPlan, *, users: dict, actors: dict) -> None:
        """Make ``plan`` happen through the services; all of it or, on error, none of it."""
        with transaction.atomic():
            lead, _created = lead_upsert(email=plan.email, values=plan.profile)
            # The services stamp created_at with the real clock; the demo's history starts earlier.
            Lead.objects.filter(pk=lead.pk).update(created_at=plan.first_touch)
            for number, (end, kinds) in enumerate(plan.sessions):
                first = number == 0
                engagements_record(
                    items=[
                        EngagementInput(
                            lead_id=lead.pk,
                            kind=kind,
                            occurred_at=end - SESSION_SPACING * (len(kinds) - 1 - position),
                            source=plan.profile["source"] if first else "",
                            campaign=plan.profile["campaign"] if first else "",
                            metadata=self._metadata(kind, number + position),
                        )
                        for position, kind in enumerate(kinds)
                    ],
                    now=end,
                )
            lead.refresh_from_db()
            if plan.hand_promote_at is not None and lead.stage == Stage.NEW:
                lead_transition(
                    lead=lead,
                    name="promote",
                    actor=users[MARKETER],
                    values=TRANSITIONS["promote"].clean(
                        {"reason": plan.hand_promote_reason}, at=plan.hand_promote_at
                    ),
                    at=plan.hand_promote_at,
                )
            for step in plan.steps:
                if step.actor != OWNER:
                    actor = users[step.actor]
                elif lead.owner_id is None:
                    actor = users[MANAGER]
                else:
                    if lead.owner_id not in actors:  # a rep who is not a demo user
                        actors[lead.owner_id] = get_user_model().objects.get(pk=lead.owner_id)
                    actor = actors[lead.owner_id]
                values = TRANSITIONS[step.name].clean(step.data, at=step.at)
                lead_transition(lead=lead, name=step.name, actor=actor, values=values, at=step.at)

    @staticmethod
    def _metadata(kind: str, variant: int) -> dict:
        if kind == "page_view":
            return {"path": PAGES[variant % len(PAGES)]}
        if kind == "pricing_page_view":
            return {"path": "/pricing"}
        return {}
