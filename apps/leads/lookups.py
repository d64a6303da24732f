"""``field__any_of=[…]``: ``field = ANY(%s)`` with one array parameter on PostgreSQL.

``__in`` writes one placeholder per value, and psycopg parses a query of a
thousand placeholders on the client each time (it caches only short queries);
the write paths look up lists of up to a thousand ids or emails. Elsewhere
(SQLite) it is ``__in``.
"""

from django.db import models
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        array_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{array_type}[])", [*lhs_params, values]


for field in (models.BigAutoField, models.AutoField, models.CharField, models.ForeignKey):
    field.register_lookup(AnyOf)
