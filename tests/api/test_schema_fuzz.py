"""Schemathesis against /api/schema/: generated requests, in-process, never a 500 or an off-schema answer.

Every operation of the schema gets a bounded number of generated requests
(valid and invalid), each sent with a marketer's and a manager's token through the real WSGI
application. Each answer must be a documented status with a body and headers
that match the schema, and invalid input must be refused with a 4xx.
"""

import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from drf_spectacular.views import SpectacularAPIView
from hypothesis import HealthCheck, settings
from rest_framework.test import APIRequestFactory, force_authenticate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import client_for
from tests.factories import LeadFactory, UserFactory
from tests.leads.helpers import walk_to

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def served_schema() -> dict:
    """The schema exactly as GET /api/schema/ serves a signed-in user.

    Read at collection time, where no database may be touched: the reader is an
    unsaved user, and the view's rate limit (which counts in the database) is off.
    """
    request = APIRequestFactory().get(
        "/api/schema/", {"format": "json"}, secure=True, HTTP_HOST="localhost"
    )
    force_authenticate(request, user=get_user_model()(username="schema-reader"))
    response = SpectacularAPIView.as_view(throttle_classes=[])(request)
    response.render()
    assert response.status_code == 200, response
    return json.loads(response.content)


schema = schemathesis.openapi.from_dict(served_schema())


@pytest.fixture
def wsgi_app(settings):
    """The real WSGI application, built after the test settings apply (plain HTTP)."""
    settings.LEADFLOW_API_RATE_PER_MINUTE = 1_000_000
    # Django's test client keeps the test's connection open across requests; a bare
    # WSGI handler would close it (and the test transaction with it) after each one.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    """A marketer's token (intake, marketing transitions) and a manager's (every sales transition)."""
    marketer = UserFactory(username="maya", roles=["marketing"])
    manager = UserFactory(username="mona", roles=["sales_manager"])
    UserFactory(username="rita", roles=["sales"])
    # Leads in several stages, so small ids often name a real lead.
    for stage in ("new", "mql", "accepted", "rejected", "sql", "opportunity", "new"):
        walk_to(LeadFactory(), stage, marketer=marketer, manager=manager)
    for user in (marketer, manager):
        client_for(user)
    return [marketer.auth_token.key, manager.auth_token.key]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_its_schema_says(case, wsgi_app, tokens):
    for token in tokens:
        case.call_and_validate(
            app=wsgi_app, headers={"Authorization": f"Token {token}"}, checks=CHECKS
        )
