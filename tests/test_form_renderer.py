"""The form renderer draws inputs and selects in Python: to the character what Django's templates draw."""

import pytest
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.utils import translation

from apps.leads.filters import LeadFilter, ReviewFilter
from apps.leads.models import Lead
from apps.leads.transitions import TRANSITIONS
from apps.leads.views import localize_choices, transition_form
from leadflow.form_renderer import WidgetRenderer

QUERIES = (
    "",
    'sort=-score&stage=mql&q=<b>"x&amp;&source=web&score_min=3&created_from=2026-01-01',
    "owner=&sla=overdue&score_max=<script>&rep=nobody&reason=other",
)


def every_form():
    for query in QUERIES:
        for filterset in (LeadFilter, ReviewFilter):
            form = filterset(QueryDict(query), queryset=Lead.objects.all()).form
            yield localize_choices(form)
    for entry in TRANSITIONS.values():
        yield transition_form(entry)
        yield transition_form(entry, data={"note": "<b>&</b>", "reason": "nope", "amount": "x"})


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ja"])
def test_filters_and_transition_forms_draw_as_with_django_templates(team, language):
    translation.activate(language)
    stock, fast = DjangoTemplates(), WidgetRenderer()
    drawn = 0
    for form in every_form():
        for field in form:
            widget = field.field.widget
            attrs = field.build_widget_attrs({})
            if field.auto_id:
                attrs["id"] = field.auto_id
            context = widget.get_context(field.html_name, field.value(), attrs)
            assert fast.render(widget.template_name, context) == stock.render(
                widget.template_name, context
            ), (form.__class__.__name__, field.name)
            drawn += 1
    assert drawn > 100
