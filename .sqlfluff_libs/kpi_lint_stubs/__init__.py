"""Offline stand-ins for dbt's Jinja context, for sqlfluff's jinja templater.

``.sqlfluff`` points ``library_path`` at this package: every public name here
becomes a Jinja global while sqlfluff renders a file. That is enough for our
models to render to parseable SQL without dbt or a database, and ~10x faster
than sqlfluff's ``load_macros_from_path`` (which recompiles every macro file
for every linted file):

- each macro defined under ``macros/`` renders as a call ``name(arg, ...)``
  (its arguments are SQL fragments, written unquoted), a ``type_*`` macro as a
  concrete type, and a macro whose body is a whole query (starts with ``with``
  or ``select``) as ``select 1 as macro_output [from <first argument>]``;
- ``dbt.<macro>(...)`` (dbt's cross-database macros) likewise;
- ``var()``: the caller's default, else dbt_project.yml's value;
- ``adapter``, ``exceptions``, ``graph``: harmless empties.

The rendered SQL is only linted, never run: the macros' own SQL is checked by
dbt and the tests. The package name is not ``dbt`` on purpose: sqlfluff
registers library modules in ``sys.modules``.
"""

from __future__ import annotations

import re
from pathlib import Path

_PROJECT = Path(__file__).resolve().parents[2]
_PLAIN = re.compile(r"[\w\s.,()'*+\-/<>=|:%!]*")
# dbt macros whose output is a whole query
_STATEMENTS = {"date_spine"}
_TYPES = {
    "string": "text", "text": "text", "bigint": "bigint", "int": "integer", "integer": "integer",
    "numeric": "numeric", "float": "double precision", "boolean": "boolean",
    "timestamp": "timestamp", "timestamp_tz": "timestamptz",
}


def _arg(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_arg(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(_arg(v) for v in value.values())
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.fullmatch(text):
        return text  # a column or an SQL expression
    return "'" + text.replace("'", "''") + "'"  # e.g. a regex: a string literal


def _call(name: str, statement: bool = False):
    if statement:  # reads its first argument (a relation or CTE name) when it has one
        return lambda *args, **kwargs: "select 1 as macro_output" + (
            f" from {args[0]}" if args and _PLAIN.fullmatch(str(args[0])) and str(args[0]).strip() else "")
    if name == "listagg":  # dbt.listagg(measure, delimiter, order_by_clause, limit_num)
        return lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None: (
            f"string_agg({measure}, {delimiter_text}{' ' + order_by_clause if order_by_clause else ''})")
    if name.startswith("type_"):
        sql_type = _TYPES.get(name[len("type_"):], "text")
        return lambda *args, **kwargs: sql_type

    def render(*args, **kwargs) -> str:
        parts = [_arg(a) for a in args] + [_arg(v) for v in kwargs.values()]
        return f"{name}({', '.join(p for p in parts if p)})"

    return render


class _Namespace:
    """Any attribute is a stand-in macro: ``dbt.dateadd(...)`` -> ``dateadd(...)``."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _call(name, statement=name in _STATEMENTS)


class _Adapter:
    """``adapter.dispatch('m', ...)`` -> the stand-in for ``m``; no relations, no columns."""

    def dispatch(self, macro_name: str, macro_namespace: str | None = None):
        return _call(macro_name)

    def get_relation(self, *args, **kwargs):
        return None

    def get_columns_in_relation(self, *args, **kwargs):
        return []

    def type(self) -> str:
        return "postgres"


class _Exceptions:
    """Compile errors and warnings are dbt's business: render nothing."""

    def raise_compiler_error(self, *args, **kwargs) -> str:
        return ""

    def warn(self, *args, **kwargs) -> str:
        return ""


class _Graph:
    """dbt's ``graph`` is empty while linting, as it is while dbt parses."""

    nodes: dict = {}
    sources: dict = {}


def _project_vars() -> dict:
    try:
        import yaml  # a dbt dependency

        data = yaml.safe_load((_PROJECT / "dbt_project.yml").read_text(encoding="utf-8")) or {}
        return dict(data.get("vars") or {})
    except Exception:  # noqa: BLE001 (linting goes on with placeholders)
        return {}


_VARS = _project_vars()


def var(name: str, default=None):
    """dbt's ``var()``: the caller's default, else dbt_project.yml's value, else a placeholder."""
    if default is not None:
        return default
    value = _VARS.get(name)
    return "item" if value is None else value


dbt = _Namespace()
adapter = _Adapter()
exceptions = _Exceptions()
graph = _Graph()
execute = False
model: dict = {}

_MACRO = re.compile(r"\{%-?\s*macro\s+([a-zA-Z_][a-zA-Z0-9_]*)\s*\((.*?)\)\s*-?%\}(.*?)\{%-?\s*endmacro",
                    re.DOTALL)
_JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)

for _path in sorted((_PROJECT / "macros").rglob("*.sql")):
    for _name, _params, _body in _MACRO.findall(_path.read_text(encoding="utf-8")):
        if _name.startswith(("default__", "postgres__", "spark__", "duckdb__")) or _name in globals():
            continue
        _head = _JINJA.sub(" ", _body).strip().lower()
        globals()[_name] = _call(_name, statement=_head.startswith(("with", "select")))
