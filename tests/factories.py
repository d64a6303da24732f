import datetime as dt

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.models import User
from apps.leads.models import Engagement, Lead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-only")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead as intake makes it: ``new``, scoring fields at zero, fit computed by the caller.

    Tests that need another stage walk it there through ``lead_transition``
    (see ``tests.leads.helpers``), never by assigning ``stage``.
    """

    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    employees = 120
    industry = "software"
    country = "US"
    source_id = "website"
    fit = "pass"


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    lead = factory.SubFactory(LeadFactory)
    kind = "page_view"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
