"""One error shape for the whole API.

Every error answers ``{"detail": "<what is wrong>"}``; a 400 for bad input adds
``errors``, the problems keyed by field (or, for a list of engagements, by the
index of each bad item), so a client can both show a message and point at the
field.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler


def first_problem(errors, path=()) -> tuple[tuple, str] | None:
    """The path to, and text of, the first message in a DRF error structure."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list):
        items = enumerate(errors)
    else:
        return (path, str(errors)) if str(errors) else None
    for key, value in items:
        # A list of messages belongs to the field above it; a list of dicts is one per item.
        found = first_problem(value, path if isinstance(value, str) else (*path, key))
        if found:
            return found
    return None


def count_problems(errors) -> int:
    if isinstance(errors, dict):
        return sum(count_problems(value) for value in errors.values())
    if isinstance(errors, list):
        return sum(count_problems(value) for value in errors) if errors else 0
    return 1


def summarize(errors) -> str:
    """'email: Enter a valid email address. (and 2 more problems)'."""
    found = first_problem(errors)
    if not found:
        return _("Invalid input.")
    path, message = found
    path = [str(p) for p in path if p != "non_field_errors"]
    text = f"{'.'.join(path)}: {message}" if path else message
    more = count_problems(errors) - 1
    if more > 0:
        text += " " + ngettext("(and %(n)s more problem)", "(and %(n)s more problems)", more) % {
            "n": more
        }
    return text


def validation_error_body(errors, detail: str | None = None) -> dict:
    if not isinstance(errors, dict):
        errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
    return {"detail": detail or summarize(errors), "errors": errors}


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        response.data = validation_error_body(response.data)
    return response
