"""Insert many rows fast: COPY on PostgreSQL, bulk_create elsewhere.

Django 5.2's bulk_create on PostgreSQL sends each column as one array parameter (UNNEST), and
psycopg quotes those arrays in Python, character by character for JSON: 10,000 passports with
their versions spent most of their time there. COPY streams the rows through psycopg's C
encoder instead. Primary keys are reserved from the table's sequence first, so the caller
gets objects with their ids, as from bulk_create.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models
from django.db.models import JSONField

BATCH_SIZE = 2_000


def rows_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert `objects` (unsaved instances of `model`) and set their primary keys."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        # The generic way to reach a model's manager: a `type[Model]` has no `objects` attribute.
        # The models inserted here declare no manager, so this is their `objects`.
        model._default_manager.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    meta = model._meta
    table = meta.db_table
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    # Every model has a primary key column (Django adds one when none is declared).
    if meta.pk is None or meta.pk.column is None:
        raise TypeError(f"{model.__name__} has no primary key column")
    pk_column = meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(objects)],
        )
        for instance, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            instance.pk = pk
        columns = ", ".join(quote(_column(field)) for field in fields)
        encoders = [_encoder(field) for field in fields]
        # The raw psycopg cursor bypasses Django's error translation; restore it so a unique
        # violation arrives as django.db.IntegrityError like from bulk_create.
        with connection.wrap_database_errors, cursor.cursor.copy(
            f"COPY {quote(table)} ({columns}) FROM STDIN"
        ) as copy:
            for instance in objects:
                copy.write_row([encode(instance) for encode in encoders])
    for instance in objects:
        instance._state.adding = False
        instance._state.db = connection.alias


def _column(field: models.Field) -> str:
    # A concrete field is one with a column; the stubs type `column` as optional for the others.
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


def _encoder(field: models.Field):
    attname = field.attname
    if isinstance(field, JSONField):
        # COPY's text format hands the string to jsonb's input function.
        return lambda instance: json.dumps(getattr(instance, attname), ensure_ascii=False)
    return lambda instance: getattr(instance, attname)
