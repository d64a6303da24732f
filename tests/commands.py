from io import StringIO

from django.core.management import call_command


def run(command, **options) -> str:
    """Run a management command as a person would; returns what it printed."""
    out = StringIO()
    call_command(command, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()
