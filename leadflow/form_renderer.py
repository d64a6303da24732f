"""The form renderer (``FORM_RENDERER``): Django's own, with its commonest widgets drawn in Python.

Django draws a widget with a template, and a select with one more template per option
and one per option's attributes: the lead list's filters (four selects of 10 to 30
options and nine inputs) cost a list page about 15 ms. The inputs and selects are drawn
here instead, to the character what Django's templates (``django/forms/widgets/``) draw;
any other widget, or a select whose options use another template, goes to the templates.
"""

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.template.defaultfilters import stringformat
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        *("input", "text", "number", "email", "url", "password", "hidden", "search", "tel"),
        *("date", "datetime", "time", "color"),
    )
)
SELECT_TEMPLATE = f"{WIDGETS}select.html"
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"


def _value(value, context) -> str:
    """``{{ value }}``."""
    return render_value_in_context(value, context)


def _string(value, context) -> str:
    """``{{ value|stringformat:'s' }}`` (the filter keeps a safe string safe)."""
    text = stringformat(value, "s")
    return _value(mark_safe(text) if isinstance(value, SafeData) else text, context)


def _attrs(attrs, context) -> str:
    """``django/forms/widgets/attrs.html``."""
    html = []
    for name, value in attrs.items():
        if value is False:
            continue
        html.append(f" {_value(name, context)}")
        if value is not True:
            html.append(f'="{_string(value, context)}"')
    return "".join(html)


def _input(widget, context) -> str:
    """``django/forms/widgets/input.html``."""
    value = widget["value"]
    shown = f' value="{_string(value, context)}"' if value is not None else ""
    return (
        f'<input type="{_value(widget["type"], context)}" name="{_value(widget["name"], context)}"'
        f"{shown}{_attrs(widget['attrs'], context)}>"
    )


def _select(widget, context) -> str | None:
    """``django/forms/widgets/select.html`` and its options; None for options of another template."""
    html = [f'<select name="{_value(widget["name"], context)}"{_attrs(widget["attrs"], context)}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{_value(group_name, context)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            html.append(
                f'\n  <option value="{_string(option["value"], context)}"'
                f"{_attrs(option['attrs'], context)}>{_value(option['label'], context)}</option>\n"
            )
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


class WidgetRenderer(DjangoTemplates):
    """Django's template renderer, but inputs and selects are drawn without templates."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None:
            values = Context(autoescape=True)
            if template_name in INPUT_TEMPLATES:
                return _input(widget, values).strip()
            if template_name == SELECT_TEMPLATE:
                html = _select(widget, values)
                if html is not None:
                    return html.strip()
        return super().render(template_name, context, request=request)
