"""manage.py seed_demo, as the person running it sees it."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apps.leads.models import Engagement, Lead, Qualification, Stage, StageTransition
from apps.sla.models import Notification, NotificationKind, SLAEvent
from apps.sla.services import sla_sweep
from tests.commands import run

# (username, password, group); the admin is in no group: it is staff and superuser.
DEMO_LOGINS = [
    ("admin", "demo-admin", None),
    ("maya", "demo-marketing", "marketing"),
    ("mona", "demo-manager", "sales_manager"),
    ("rita", "demo-sales", "sales"),
    ("sam", "demo-sales", "sales"),
    ("kenji", "demo-sales", "sales"),
]
DEMO_USERNAMES = [username for username, _password, _group in DEMO_LOGINS]
REPS = ["rita", "sam", "kenji"]


def prints_login(output: str, username: str, password: str) -> bool:
    rows = [line.split() for line in output.splitlines()]
    return any(row and row[0] == username and row[-1] == password for row in rows)


@pytest.fixture
def seeded(db):
    """Output of a small seed: 40 leads already cover every outcome the demo plays."""
    return run("seed_demo", leads=40)


def signs_in(client, username, password) -> bool:
    """Sign in through the login page, as a person does (login throttling watches it)."""
    client.logout()
    client.post("/accounts/login/", {"username": username, "password": password})
    return client.session.get("_auth_user_id") is not None


# --- seed_demo ----------------------------------------------------------------


def test_seed_demo_makes_a_user_per_role_who_logs_in_with_the_printed_password(seeded, client):
    User = get_user_model()
    for username, password, group in DEMO_LOGINS:
        assert prints_login(seeded, username, password)
        assert signs_in(client, username, password), username
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == ([group] if group else [])
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser


def test_seed_demo_fills_every_stage_of_the_funnel(seeded):
    funnel = {"new", "mql", "accepted", "rejected", "sql", "opportunity", "won", "lost"}
    assert funnel | {"disqualified"} <= set(Lead.objects.values_list("stage", flat=True))
    assert Lead.objects.count() == 40
    qualified = Qualification.objects.filter(lead__stage__in=["sql", "opportunity", "won", "lost"])
    assert qualified.exists()


def test_seed_demo_leaves_mqls_in_rep_inboxes_and_rejections_for_marketing(seeded):
    now = timezone.now()
    waiting = Lead.objects.filter(stage="mql")
    assert waiting.filter(accept_due_at__gt=now).exists()
    assert waiting.filter(accept_due_at__lte=now).exists()
    assert set(waiting.values_list("owner__username", flat=True)) <= set(REPS)
    assert Lead.objects.filter(stage="rejected", last_reject_reason__isnull=False).exists()
    for rep in REPS:
        assert Lead.objects.filter(owner__username=rep).exists(), f"round-robin gave {rep} nothing"


def test_every_seeded_leads_history_chains_from_new_to_its_current_stage(seeded):
    now = timezone.now()
    leads = Lead.objects.prefetch_related("transitions", "engagements")
    assert sum(1 for lead in leads if lead.transitions.all()) >= 20
    for lead in leads:
        history = sorted(lead.transitions.all(), key=lambda row: (row.at, row.pk))
        assert history == sorted(history, key=lambda row: row.pk), f"{lead.email}: time ran back"
        stages = [Stage.NEW] + [row.to_stage for row in history]
        assert [row.from_stage for row in history] == stages[:-1], lead.email
        assert stages[-1] == lead.stage, lead.email
        engaged = [engagement.occurred_at for engagement in lead.engagements.all()]
        assert engaged and lead.created_at <= min(engaged), lead.email
        if history:
            assert max(engaged) <= history[0].at <= history[-1].at <= now, lead.email


def test_seed_demo_spreads_the_history_over_the_past_eight_weeks(seeded):
    now = timezone.now()
    oldest = Engagement.objects.order_by("occurred_at").first().occurred_at
    assert now - dt.timedelta(weeks=8) <= oldest <= now - dt.timedelta(weeks=5)
    assert not Engagement.objects.filter(occurred_at__gt=now).exists()
    promotions = StageTransition.objects.filter(transition="promote").values_list("at", flat=True)
    assert len({(now - at).days // 7 for at in promotions}) >= 5


def test_running_seed_demo_again_creates_nothing_twice(seeded):
    models = [get_user_model(), Lead, Engagement, StageTransition, Qualification]
    before = {model: model.objects.count() for model in models}

    output = run("seed_demo", leads=40)

    assert {model: model.objects.count() for model in models} == before
    assert "0 created, 40 already present" in output


def test_seed_demo_resets_a_demo_password_someone_changed(seeded, client):
    rita = get_user_model().objects.get(username="rita")
    rita.set_password("changed-in-the-ui")
    rita.save()

    run("seed_demo", leads=40)

    assert signs_in(client, "rita", "demo-sales")


def test_logins_only_prints_the_logins_and_creates_nothing(db):
    output = run("seed_demo", logins_only=True)

    for username, password, _group in DEMO_LOGINS:
        assert prints_login(output, username, password)
    assert not get_user_model().objects.filter(username__in=DEMO_USERNAMES).exists()
    assert not Lead.objects.exists()


def test_recompute_scores_agrees_with_the_scores_seed_demo_built_incrementally(seeded):
    built = dict(Lead.objects.values_list("pk", "score"))
    assert any(built.values())

    run("recompute_scores")

    assert dict(Lead.objects.values_list("pk", "score")) == built


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seeding_history_does_not_notify_anyone_of_weeks_old_handovers():
    # Really committed, lead by lead, as seed_demo runs under make run.
    call_command("seed_demo", leads=40, verbosity=0)
    assert Lead.objects.filter(stage="mql").exists()
    assert not Notification.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_first_sla_sweep_after_seeding_announces_no_breach_of_the_replayed_past():
    call_command("seed_demo", leads=40, verbosity=0)
    now = timezone.now()
    # The demo has MQLs and accepted leads whose deadlines passed weeks ago.
    assert Lead.objects.filter(stage="mql", accept_due_at__lt=now).exists()
    assert Lead.objects.filter(stage="accepted", process_due_at__lt=now).exists()

    result = sla_sweep(now=now)

    sent = Notification.objects.values_list("kind", flat=True)
    assert not {NotificationKind.BREACH, NotificationKind.ESCALATION} & set(sent)
    assert result.reassigned == 0
    # What is still ahead is still news: reminders of deadlines to come, not of missed ones.
    for notification in Notification.objects.select_related("event"):
        assert notification.event.deadline > now
    # The past is on record, as the sweep would have recorded it then.
    assert SLAEvent.objects.filter(kind="accept_breach", deadline__lt=now).exists()
