"""MQL criteria and fit rules in words, for the suggestions, the drafts and the what-if.

Pure functions of ``apps.criteria.rules`` values, in the active language.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.criteria import rules
from apps.criteria.models import EngagementKind


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


def kind_name(kind: str) -> str:
    return str(dict(EngagementKind.choices).get(kind, kind)).lower()


def employees_text(rule: rules.FitRuleValues) -> str:
    low, high = rule.employees_min, rule.employees_max
    if low is None and high is None:
        return _("any number of employees")
    if high is None:
        return _("%(min)s or more employees") % {"min": _n(low)}
    if low is None:
        return _("up to %(max)s employees") % {"max": _n(high)}
    return _("employees %(min)s–%(max)s") % {"min": _n(low), "max": _n(high)}


def industries_text(rule: rules.FitRuleValues) -> str:
    if not rule.industries:
        return _("any industry")
    return _("industries %(list)s") % {"list": ", ".join(sorted(rule.industries))}


def countries_text(rule: rules.FitRuleValues) -> str:
    if not rule.countries:
        return _("any country")
    return _("countries %(list)s") % {"list": ", ".join(sorted(rule.countries))}


def fit_rule_text(rule: rules.FitRuleValues) -> str:
    """'employees 50–500; industries finance, software; any country'."""
    return "; ".join((employees_text(rule), industries_text(rule), countries_text(rule)))


def criteria_text(rule: rules.MQLRule, fit: rules.FitRuleValues) -> str:
    """The whole of a criteria version, e.g. 'score ≥ 10; ≥ 3 engagements; …'."""
    parts = [
        _("score ≥ %(n)s") % {"n": rule.score_threshold},
        ngettext("≥ %(n)s engagement", "≥ %(n)s engagements", rule.min_engagements)
        % {"n": rule.min_engagements},
    ]
    parts += [
        _("at least one %(kind)s") % {"kind": kind_name(k)} for k in sorted(rule.required_kinds)
    ]
    if rule.fit_required:
        parts.append(_("fit required (%(rule)s)") % {"rule": fit_rule_text(fit)})
    else:
        parts.append(_("fit not required"))
    return "; ".join(parts)


def criteria_changes(
    *,
    active: rules.MQLRule,
    active_fit: rules.FitRuleValues,
    rule: rules.MQLRule,
    fit: rules.FitRuleValues,
) -> list[str]:
    """What ``rule`` (with fit rule ``fit``) changes from the active version, one phrase each.

    E.g. ['require at least one pricing page view', 'employees 50–500 (was 10–5,000)'].
    """
    changes = []
    if rule.score_threshold != active.score_threshold:
        values = {"new": rule.score_threshold, "old": active.score_threshold}
        changes.append(
            _("no score threshold (was %(old)s)") % values
            if rule.score_threshold == 0
            else _("score ≥ %(new)s (was %(old)s)") % values
        )
    if rule.min_engagements != active.min_engagements:
        values = {"new": rule.min_engagements, "old": active.min_engagements}
        changes.append(
            _("no minimum of engagements (was %(old)s)") % values
            if rule.min_engagements == 0
            else ngettext(
                "at least %(new)s engagement (was %(old)s)",
                "at least %(new)s engagements (was %(old)s)",
                rule.min_engagements,
            )
            % values
        )
    for kind in sorted(rule.required_kinds - active.required_kinds):
        changes.append(_("require at least one %(kind)s") % {"kind": kind_name(kind)})
    for kind in sorted(active.required_kinds - rule.required_kinds):
        changes.append(_("no longer require a %(kind)s") % {"kind": kind_name(kind)})
    if active.fit_required and not rule.fit_required:
        changes.append(_("no longer require fit"))
    if not rule.fit_required:
        return changes
    fit_changes = [
        _("%(new)s (was %(old)s)") % {"new": text(fit), "old": text(active_fit)}
        for text in (employees_text, industries_text, countries_text)
        if text(fit) != text(active_fit)
    ]
    if not active.fit_required:
        # Say what fit means when it becomes a condition and the rule itself stays.
        changes.append(
            _("require fit")
            if fit_changes
            else _("require fit (%(rule)s)") % {"rule": fit_rule_text(fit)}
        )
    return changes + fit_changes
