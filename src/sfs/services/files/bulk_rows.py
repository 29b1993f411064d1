"""Thousands of rows in one statement with one parameter per column, not one per row.

A sync upload writes about three rows per 16-32 KiB chunk (its location, its receipt, its place
in the version): tens of thousands per GiB. Handed to an executemany, SQLAlchemy runs its Python
bookkeeping (parameter dicts, type conversion) for every row, and that, not the database, was
most of the server's CPU per uploaded byte. Here each column travels as one array — a JSON array
read by `json_each` on SQLite, a typed array read by `unnest` on PostgreSQL — so the per-row work
happens in the database's C code. Values shared by every row are bound once, with their column's
type. The same trick answers "which of these ids" with one array parameter instead of an
expanded `IN (…)` of hundreds of bound names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import QueryableAttribute, Session

Value = Any


def insert_rows(
    session: Session,
    table: Table,
    shared: Mapping[str, Value],
    columns: Mapping[str, Sequence[Value]],
    *,
    conflict: Sequence[str] = (),
    refresh: Sequence[str] = (),
) -> None:
    """Insert one row per position of the `columns` lists (all of one length), each with the
    `shared` values too. With `conflict` (a unique key), a row whose key exists is left alone,
    or with `refresh`, has those columns set to the new values (locking it until the commit).
    Rows must be unique on `conflict`: PostgreSQL refuses to update one row twice."""
    count = len(next(iter(columns.values()))) if columns else 0
    if not count:
        return
    if any(len(values) != count for values in columns.values()):
        raise ValueError("every column needs one value per row")
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = [*shared, *columns]
    params: dict[str, Value] = {}
    binds = []
    selected: list[str] = []
    for index, name in enumerate(shared):
        params[f"s{index}"] = shared[name]
        binds.append(bindparam(f"s{index}", type_=table.c[name].type))
        selected.append(f":s{index}")
    varying = list(columns)
    rows = _converted(table, dialect, columns)
    if dialect.name == "postgresql":
        arrays = []
        for index, name in enumerate(varying):
            params[f"a{index}"] = rows[index]
            arrays.append(f"CAST(:a{index} AS {_array_type(table.c[name], dialect)})")
            selected.append(f"u.c{index}")
        aliases = ", ".join(f"c{index}" for index in range(len(varying)))
        source = f"unnest({', '.join(arrays)}) AS u({aliases})"
    else:
        params["rows"] = json.dumps(list(zip(*rows, strict=True)))
        selected += [f"json_extract(j.value, '$[{index}]')" for index in range(len(varying))]
        source = "json_each(:rows) AS j"
    # `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT, not a join.
    # Only quoted names from the table's metadata and numbered placeholders go into the text.
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM {source} WHERE true"
    )
    if conflict:
        key = ", ".join(quote(n) for n in conflict)
        if refresh:
            updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in refresh)
            sql += f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
        else:
            sql += f" ON CONFLICT ({key}) DO NOTHING"
    session.execute(text(sql).bindparams(*binds), params)


def among(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[Value]
) -> ColumnElement[bool]:
    """`column IN values`, the values (text or integers) bound as one array parameter."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
    return column.in_(select(literal_column("value")).select_from(listed))


def _converted(
    table: Table, dialect: Dialect, columns: Mapping[str, Sequence[Value]]
) -> list[list[Value]]:
    """Each column's values as the driver takes them (a UUID or datetime as SQLite stores it),
    by the column's own type, as a single-row insert would convert them."""
    converted = []
    for name, values in columns.items():
        convert = table.c[name].type.bind_processor(dialect)
        converted.append(
            list(values) if convert is None else [None if v is None else convert(v) for v in values]
        )
    return converted


def _array_type(column: Column[Any], dialect: Dialect) -> str:
    return f"{column.type.compile(dialect=dialect)}[]"
