"""The project's own app: listed last in ``INSTALLED_APPS``, it is readied once every app is loaded."""

import gc

from django.apps import AppConfig


class LeadflowConfig(AppConfig):
    """Takes what start-up loaded out of the garbage collector's rounds.

    A started process holds some 100,000 objects that live as long as it does (modules,
    classes, functions, models). Every full collection walks them all, and one comes every
    few dozen requests: 50 to 150 ms added to one page, which is a list's p95 (SPEC §9).
    ``gc.freeze()`` moves them where the collector no longer looks; objects made later
    are collected as before.
    """

    name = "leadflow"
    verbose_name = "Leadflow"

    def ready(self):
        gc.collect()  # start-up's own garbage first: a frozen object is never freed
        gc.freeze()
