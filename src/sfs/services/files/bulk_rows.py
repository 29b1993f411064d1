"""Thousands of rows written, or ids looked up, without SQLAlchemy's work for each row.

A sync upload writes about two rows per 16-32 KiB chunk (its location, which names its
uploader, and its place in the version): ~90,000 per GiB. Handed to a Core executemany,
SQLAlchemy builds and converts every row's parameters in Python, which cost more than the
database's own work. Here each column is converted by its type in one pass and the rows go to
the driver as they are: on SQLite as an executemany, which its driver runs in C; on PostgreSQL
as one typed array per column read by `unnest`, one statement instead of a round trip per row.
Likewise "which of these ids" binds the ids as one array parameter instead of an expanded
`IN (...)` of hundreds of bound names.
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
) -> int:
    """Insert one row per position of the `columns` lists (all of one length), each with the
    `shared` values too. With `conflict` (a unique key), a row whose key exists is left alone,
    or with `refresh`, has those columns set to the new values (locking it until the commit).
    Rows must be unique on `conflict`: PostgreSQL refuses to update one row twice. Returns how
    many rows were inserted or updated (not those left alone)."""
    count = len(next(iter(columns.values()))) if columns else 0
    if not count:
        return 0
    if any(len(values) != count for values in columns.values()):
        raise ValueError("every column needs one value per row")
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = [*shared, *columns]
    ending = ""
    if conflict:
        key = ", ".join(quote(n) for n in conflict)
        if refresh:
            updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in refresh)
            ending = f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
        else:
            ending = f" ON CONFLICT ({key}) DO NOTHING"
    # Only quoted names from the table's metadata and placeholders go into the text.
    into = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
    varying = _converted(table, dialect, columns)
    if dialect.name != "postgresql":
        # SQLite runs an executemany in C: the rows go to the driver as they are.
        fixed = tuple(_converted(table, dialect, {n: [v] for n, v in shared.items()}))
        rows = [(*(v[0] for v in fixed), *row) for row in zip(*varying, strict=True)]
        marks = ", ".join("?" for _ in names)
        written = session.connection().exec_driver_sql(f"{into}VALUES ({marks}){ending}", rows)
        return int(written.rowcount)
    params: dict[str, Value] = {}
    binds = []
    selected: list[str] = []
    for index, name in enumerate(shared):
        params[f"s{index}"] = shared[name]
        binds.append(bindparam(f"s{index}", type_=table.c[name].type))
        selected.append(f":s{index}")
    arrays = []
    for index, name in enumerate(columns):
        params[f"a{index}"] = varying[index]
        arrays.append(f"CAST(:a{index} AS {_array_type(table.c[name], dialect)})")
        selected.append(f"u.c{index}")
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    source = f"unnest({', '.join(arrays)}) AS u({aliases})"
    sql = f"{into}SELECT {', '.join(selected)} FROM {source}{ending}"  # noqa: S608
    inserted = session.execute(text(sql).bindparams(*binds), params)
    return int(inserted.rowcount)  # type: ignore[attr-defined]


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
