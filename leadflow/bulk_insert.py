"""Insert many rows in one statement, cheaper than ``bulk_create`` on PostgreSQL.

Django's ``bulk_create`` sends each column as one array (``UNNEST``) and psycopg
builds every array literal in Python, escaping element by element with regular
expressions: 500 webhook event bodies took ~170 ms of a sweep batch to quote,
more than everything else in it. Here the rows travel as one JSON document,
encoded by the C encoder and split by the server (``json_to_recordset``, or
``jsonb_to_recordset`` when a column holds JSON) into columns of the table's types.
Other databases get one plain ``VALUES`` list.
No signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models

#: Values JSON has no type for, and the text PostgreSQL reads them back from.
_AS_TEXT = {
    "DateTimeField": lambda value: value.isoformat(),
    "DateField": lambda value: value.isoformat(),
    "UUIDField": str,
    "DecimalField": str,
}


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str] = (),
    returning: Sequence[str] = ("id",),
    fixed: dict | None = None,
) -> list[tuple]:
    """INSERT ``rows`` (values of ``fields``, by field name) into ``model``'s table at once.

    Returns the ``returning`` fields of each row inserted, in the order of ``rows``.
    With ``conflict`` (the fields of a unique constraint), rows that would break it are
    skipped and not returned. ``fixed`` gives fields whose value is the same in every
    row (field name to value): sent once, not with each row.
    """
    rows = list(rows)
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fixed = fixed or {}
    fixed_fields = [meta.get_field(name) for name in fixed]
    fixed_values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fixed_fields, fixed.values(), strict=True)
    ]
    columns = [meta.get_field(name) for name in fields]

    def names(of):
        return ", ".join(quote(meta.get_field(name).column) for name in of)

    if connection.vendor == "postgresql":
        # Parameters stripped (varchar, not varchar(20)): the table's own type still checks.
        types = [field.db_type(connection).split("(")[0] for field in columns]
        keys = [f"c{index}" for index in range(len(columns))]
        converted = [
            (key, convert)
            for key, field in zip(keys, columns, strict=True)
            if (
                convert := _AS_TEXT.get(
                    (field.target_field if field.is_relation else field).get_internal_type()
                )
            )
        ]
        objects = []
        for row in rows:
            values = dict(zip(keys, row, strict=True))
            for key, convert in converted:
                if values[key] is not None:
                    values[key] = convert(values[key])
            objects.append(values)
        document = json.dumps(objects)
        # With a JSON column the document goes as jsonb: parsed once, and each row's JSON
        # value taken as it is. As json (checked, then split) every such value would be
        # parsed twice more: at a sweep's hundreds of webhook bodies, most of the statement.
        # Without one, json is split at least as fast.
        as_jsonb = any(isinstance(field, models.JSONField) for field in columns)
        split = "jsonb_to_recordset(%s::jsonb)" if as_jsonb else "json_to_recordset(%s::json)"
        definition = ", ".join(f"{key} {kind}" for key, kind in zip(keys, types, strict=True))
        # Typed like the table's columns, so the planner needs no guess about the values.
        constants = [f"%s::{field.db_type(connection).split('(')[0]}" for field in fixed_fields]
        source = (
            f"SELECT {', '.join([*(f'r.{key}' for key in keys), *constants])} FROM ROWS FROM "
            f"({split} AS ({definition})) WITH ORDINALITY "
            f"AS r ({', '.join(keys)}, n) ORDER BY r.n"
        )
        params = [*fixed_values, document]
    else:
        row = "(" + ", ".join(["%s"] * (len(columns) + len(fixed_fields))) + ")"
        source = "VALUES " + ", ".join([row] * len(rows))
        params = [
            param
            for values in rows
            for param in (
                *(
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(columns, values, strict=True)
                ),
                *fixed_values,
            )
        ]
    on_conflict = f" ON CONFLICT ({names(conflict)}) DO NOTHING" if conflict else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({names([*fields, *fixed])}) {source}{on_conflict} "
            f"RETURNING {names(returning)}",
            params,
        )
        return cursor.fetchall()


def bulk_insert(objs: Sequence[models.Model]) -> list[models.Model]:
    """``bulk_create`` of ``objs`` (unsaved, of one model, with an auto primary key).

    Fields get their ``pre_save`` values (``auto_now_add``; defaults were set when
    each object was made). Returns ``objs``, saved, with their primary keys.
    """
    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    if connection.vendor != "postgresql" or any(
        isinstance(field, models.JSONField) and field.encoder for field in meta.concrete_fields
    ):
        return model.objects.bulk_create(objs)
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    ids = rows_insert(
        model,
        [field.name for field in fields],
        ([field.pre_save(obj, True) for field in fields] for obj in objs),
        returning=[meta.pk.name],
    )
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
