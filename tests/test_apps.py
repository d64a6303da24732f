"""What a started process has loaded stays out of the garbage collector's rounds."""

import gc

from apps.leads.models import Lead


def test_the_objects_loaded_at_start_up_are_frozen_out_of_collections():
    assert gc.get_freeze_count() > 10_000
    assert not any(obj is Lead for obj in gc.get_objects())
