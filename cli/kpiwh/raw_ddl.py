"""The raw contract's DDL text and the columns it declares, without a database.

``sql/raw_contract.sql`` is the one source of the raw tables and their columns:
``kpi init`` and ``kpi load`` run it (:func:`kpiwh.contract.apply`), the generator
writes its CSV headers from :func:`table_columns`, and ``kpi lint`` checks the
sources yml against it (``source-columns`` in :mod:`kpiwh.hygiene`). This module
imports neither psycopg nor dbt, so the generator and the lint load it cheaply.

The parser reads the DDL's own shape: ``create table [if not exists] raw.<name> (...)``
whose comma-separated items are column definitions (first word: the column name)
or table constraints (``primary key``, ``unique``, ``check``, ``constraint``,
``foreign key``, ``exclude``, ``like``). ``--`` comments and dollar-quoted bodies
(the ``do $$ ... $$`` blocks) are skipped; quoted literals may hold commas and
parentheses.
"""

from __future__ import annotations

import re
from importlib import resources

RAW_SCHEMA = "raw"

_CREATE = re.compile(
    r"create\s+table\s+(?:if\s+not\s+exists\s+)?" + RAW_SCHEMA + r"\.(\w+|\"[^\"]+\")\s*\(", re.IGNORECASE
)
# dollar-quoted bodies (dropped), quoted literals and identifiers (kept), `--` comments (dropped)
_SKIP = re.compile(r"(\$(\w*)\$.*?\$\2\$)|('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")|(--[^\n]*)", re.DOTALL)
_CONSTRAINTS = {"primary", "unique", "check", "constraint", "foreign", "exclude", "like"}


def ddl() -> str:
    """Return the raw-contract DDL text (idempotent ``create ... if not exists``)."""
    return resources.files("kpiwh").joinpath("sql/raw_contract.sql").read_text(encoding="utf-8")


def _strip(text: str) -> str:
    """``text`` without its comments and dollar-quoted bodies; quoted literals kept."""
    return _SKIP.sub(lambda m: m.group(3) or "", text)


def _items(text: str, start: int, table: str) -> list[str]:
    """The comma-separated items of the parenthesised list that opens just before ``start``."""
    items, depth, quote, begin = [], 0, "", start
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ")" or (ch == "," and not depth):
            items.append(text[begin:i].strip())
            begin = i + 1
            if ch == ")":
                return items
    raise ValueError(f"raw contract DDL: the column list of raw.{table} is not closed")


def _ident(word: str) -> str:
    """PostgreSQL's spelling of an identifier: quoted as written, unquoted folded to lower case."""
    return word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()


def table_columns(text: str | None = None) -> dict[str, tuple[str, ...]]:
    """Return the columns of every table the DDL creates in schema ``raw``, in DDL order.

    Args:
        text (str | None): DDL text; None = the package's ``sql/raw_contract.sql``.
    Returns:
        dict[str, tuple[str, ...]]: ``{table: (column, ...)}`` in the order of the
        ``create table`` statements; each tuple in declaration order, loader columns
        (``_loaded_at``) included, table constraints left out.
    Raises:
        ValueError: no ``create table raw.*`` found, a table declared twice, a column
            list not closed, or an empty item in a column list.
    """
    body = _strip(ddl() if text is None else text)
    tables: dict[str, tuple[str, ...]] = {}
    for m in _CREATE.finditer(body):
        table = _ident(m.group(1))
        if table in tables:
            raise ValueError(f"raw contract DDL: raw.{table} is created twice")
        cols = []
        for item in _items(body, m.end(), table):
            if not item:
                raise ValueError(f"raw contract DDL: an empty item in the column list of raw.{table}")
            word = re.match(r"\"(?:[^\"]|\"\")*\"|\S+", item).group(0)
            if word.lower() not in _CONSTRAINTS:
                cols.append(_ident(word))
        tables[table] = tuple(cols)
    if not tables:
        raise ValueError(f"raw contract DDL: no `create table {RAW_SCHEMA}.<name> (...)` found")
    return tables
