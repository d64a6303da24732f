import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _rate_limit_in_the_database(settings):
    # Each test counts from zero in the database store unless it picks Redis itself.
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.RATE_LIMIT_KEY_PREFIX = f"leadflow-test-api:{uuid.uuid4().hex}"


def client_for(user) -> APIClient:
    """An API client that sends ``user``'s token, as an integration would."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api():
    return client_for
