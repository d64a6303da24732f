"""Read many rows as plain tuples, their moments parsed in C (PostgreSQL).

Django's psycopg loader for ``timestamptz`` parses each value in Python (a regular
expression, then the time zone set again): reading a sweep batch's 500 leads with
their dozen moments each spent more in it than in the query. Here PostgreSQL writes
each moment as ISO 8601 text in UTC and ``datetime.fromisoformat`` (C) reads it back:
the same aware values, in UTC, as the ORM gives. Other databases read as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP

# Microseconds always written (``.US``), so every value has one shape.
_AS_UTC_TEXT = (
    "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
)


def _field_of(model: type[models.Model], path: str) -> models.Field:
    field = None
    for part in path.split(LOOKUP_SEP):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        model = field.related_model
    return field


def values_rows(queryset: models.QuerySet, fields: Sequence[str]) -> list[tuple]:
    """``list(queryset.values_list(*fields))``, the moments parsed cheaply on PostgreSQL."""
    if connection.vendor != "postgresql":
        return list(queryset.values_list(*fields))
    moments, selected, annotations = [], [], {}
    for index, path in enumerate(fields):
        if isinstance(_field_of(queryset.model, path), models.DateTimeField):
            alias = f"_moment_{index}"
            annotations[alias] = models.Func(
                models.F(path), template=_AS_UTC_TEXT, output_field=models.TextField()
            )
            moments.append(index)
            selected.append(alias)
        else:
            selected.append(path)
    rows = queryset.annotate(**annotations).values_list(*selected)
    if not moments:
        return list(rows)
    parse = dt.datetime.fromisoformat
    result = []
    for row in rows:
        row = list(row)
        for index in moments:
            if row[index] is not None:
                row[index] = parse(row[index])
        result.append(tuple(row))
    return result
