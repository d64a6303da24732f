"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")

app = Celery("leadflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_the_filesystem_broker_folders(sender, **kwargs):
    """kombu's ``filesystem://`` transport (the embedded default) needs its folders to exist.

    Made when Celery first reads its configuration (a worker or beat starting, a
    task being sent), never by importing the settings.
    """
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
