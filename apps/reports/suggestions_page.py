"""What the suggested-criteria page shows, assembled from ``Suggestions``: rows and the front chart."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.reports import charts
from apps.reports.suggest import Candidate, Suggestions

NOTE_LENGTH = 255  # MQLCriteria.note


@dataclass(frozen=True)
class CandidateRow:
    number: int
    candidate: Candidate
    fit_rule_change: dict | None
    note: str


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def candidate_note(candidate: Candidate, suggestions: Suggestions) -> str:
    """The draft's "why this version": where the suggestion came from and what it promised."""
    note = _(
        "Suggested for %(window)s: MQL→SQL %(rate)s, %(kept)s of SQLs kept, %(load)s MQLs a week"
    ) % {
        "window": suggestions.window,
        "rate": _percent(candidate.rate),
        "kept": _percent(candidate.sqls_kept),
        "load": f"{candidate.mqls_per_week:.1f}",
    }
    return note[:NOTE_LENGTH]


def suggestions_page_context(suggestions: Suggestions) -> dict:
    rows = [
        CandidateRow(
            number=number,
            candidate=candidate,
            fit_rule_change=candidate.fit_rule_change(suggestions.current_fit),
            note=candidate_note(candidate, suggestions),
        )
        for number, candidate in enumerate(suggestions.candidates, start=1)
    ]
    points = [
        charts.FrontPoint(
            x=row.candidate.mqls_per_week,
            y=row.candidate.sqls_kept or 0.0,
            label=str(row.number),
            tooltip=f"{row.number}: {_percent(row.candidate.rate)} · {'; '.join(row.candidate.changes)}",
        )
        for row in rows
    ]
    active = suggestions.active
    if rows and active is not None and active.mqls:
        points.append(
            charts.FrontPoint(
                x=active.mqls_per_week,
                y=active.sqls_kept or 0.0,
                label="●",
                tooltip=_("The active version: %(rate)s") % {"rate": _percent(active.rate)},
                css_class="point-active",
            )
        )
    chart = (
        charts.front_chart(
            points=points,
            x_title=_("MQLs per week"),
            y_title=_("SQLs kept"),
            title=_("Suggested criteria: SQLs kept against MQLs per week"),
            desc=_(
                "Each numbered point is a suggested criteria version: how many MQLs a week it would "
                "hand sales (across) and the share of these weeks' SQLs it keeps (up). The grey point "
                "is the active version."
            ),
        )
        if rows
        else None
    )
    return {"rows": rows, "front_chart": chart}
