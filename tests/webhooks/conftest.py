import pytest

from apps.webhooks import events as vocabulary
from apps.webhooks.models import WebhookEndpoint
from tests.webhooks.receiver import Receiver


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    """The receivers of these tests listen on 127.0.0.1, which an operator must allow."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    # Retries are due at once; the tests decide when the next delivery run happens.
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_RETRY_MAX_SECONDS = 0


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def endpoint(receiver, db):
    """A generic endpoint for every event type, pointing at the receiver, which knows its secret."""
    created = WebhookEndpoint.objects.create(
        name="Warehouse", url=receiver.url, event_types=list(vocabulary.EVENT_TYPES)
    )
    receiver.secret = created.secret
    return created
