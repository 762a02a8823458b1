"""PII guard: no staging, intermediate or mart relation exposes personal data (seed 004).

Seed 004 "Privacy-first design: No PII storage"; SPEC "no mart holds an email,
phone or name column"; staging drops the PII columns of ``raw.customers`` and
scrubs the keys of ``seeds/pii_metadata_keys.csv`` from event metadata.
:func:`check` verifies all of it on a built warehouse, reading the catalog
(``information_schema.columns``) rather than dbt's manifest, so it sees what
BI tools see — including a relation nobody documented.

Rules (a finding = relation, column, rule, detail):

* ``name``: a column's NAME is a PII attribute — one of :data:`NAME_RULES`
  (email, phone, mobile, given/first/last/family/middle/full name, surname,
  address, street, ip / ip_address, birth date) as a whole word of the
  snake_case name (``customer_email``, ``email_address``, ``ip``) — but a
  word followed by a qualifier that makes it a property of the thing, not
  the thing (``email_type``, ``phone_verified``, ``mail_success_rate``) is
  not (see :func:`name_rule`).
* ``email`` / ``phone``: a text or JSON column's CONTENT holds an e-mail
  address or a phone number (:data:`EMAIL_RE`, :data:`PHONE_RE`) in a sample
  of up to ``sample`` rows per relation (``limit``, no ordering: cheap, and
  enough for a column that holds PII systematically; a rare leak may escape a
  sample, which is why staging scrubs at the source).
* ``json_key``: a JSON column's sampled values carry, at any depth, a key
  listed in ``seeds/pii_metadata_keys.csv``.
* ``metadata_key``: ``stg_platform__events.metadata`` still holds a top-level
  key of ``seeds/pii_metadata_keys.csv`` — checked on EVERY row (the jsonb
  ``?|`` operator), not a sample: it is the scrub staging promises.

Exceptions live in an allow-list file (default ``tests/pii_allowlist.yml``):
each entry names a ``relation`` (``schema.table``, shell-style wildcards
allowed), a ``column`` (wildcards allowed), the ``rules`` it waives and a
non-empty ``reason``. An entry that matches nothing is reported as stale
(not a failure) so the list does not rot silently.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from .errors import UsageError

DEFAULT_SCHEMAS = ("staging", "intermediate", "marts")
DEFAULT_SAMPLE = 5000
RULES = ("name", "email", "phone", "json_key", "metadata_key")
TEXT_TYPES = {"text", "character varying", "character", "json", "jsonb"}
EVENTS_RELATION = ("staging", "stg_platform__events", "metadata")

# whole snake_case words (or word pairs) that ARE a personal attribute
NAME_RULES: dict[str, str] = {
    r"e_?mail(_address)?": "e-mail address",
    r"(phone|mobile|cell|telephone)(_number)?|msisdn": "phone number",
    r"(given|first|last|family|middle|full|maiden|sur)_?name": "person's name",
    r"ip(_?v[46])?(_address)?": "IP address",
    r"(street|postal|home|billing|shipping|mailing|email)?_?address(_line_?\d*)?|street": "postal address",
    r"birth_?date|date_of_birth|dob": "date of birth",
}
# words after a PII word that describe it rather than hold it (email_type, phone_verified)
QUALIFIERS = {
    "type", "kind", "status", "sent", "delivered", "failed", "opened", "bounced", "count", "counts",
    "rate", "share", "pct", "verified", "confirmed", "opt", "optin", "optout", "opted", "consent",
    "domain", "country", "provider", "template", "channel", "is", "has", "flag", "present", "hash",
    "hashed", "sha256", "id", "key",
}
# words before a PII word that make the column a flag or count about it (is_email, n_phone)
PREFIX_QUALIFIERS = {"is", "has", "n", "num", "count", "valid", "invalid"}

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# international (+CC ...) with 8-15 digits, or a North-American 3-3-4 number; never inside
# a longer token (uuid groups, ids, ISO dates and times do not match)
PHONE_RE = re.compile(
    r"(?<![\w+-])(\+\d{1,3}[ .-]?(\(\d{1,4}\)[ .-]?)?\d{1,4}([ .-]?\d{2,5}){1,4}"
    r"|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w-])"
)


@dataclass(frozen=True)
class Finding:
    """One exposure: ``relation`` (schema.table), ``column``, ``rule`` (see :data:`RULES`), ``detail``."""

    relation: str
    column: str
    rule: str
    detail: str


@dataclass(frozen=True)
class Allowed:
    """One allow-list entry: relation/column patterns, the rules it waives, why."""

    relation: str
    column: str
    rules: tuple[str, ...]
    reason: str

    def covers(self, f: Finding) -> bool:
        """True when this entry waives finding ``f``."""
        return (fnmatch.fnmatchcase(f.relation, self.relation) and fnmatch.fnmatchcase(f.column, self.column)
                and f.rule in self.rules)


@dataclass
class Report:
    """What :func:`check` saw: findings (failures), waived findings, stale entries, counts."""

    findings: list[Finding] = field(default_factory=list)
    allowed: list[tuple[Finding, Allowed]] = field(default_factory=list)
    stale: list[Allowed] = field(default_factory=list)
    relations: int = 0
    columns: int = 0
    sampled_rows: int = 0

    @property
    def ok(self) -> bool:
        """No finding outside the allow-list."""
        return not self.findings


def name_rule(column: str) -> str | None:
    """The PII attribute a column name denotes (e.g. ``"e-mail address"``), or None.

    A rule word must be whole snake_case words of the name (``customer_email``,
    ``email``, ``ip_address``; not ``zip`` nor ``emails_sent``) and must not be
    followed by a qualifier word (``email_type``, ``phone_verified``).
    """
    words = column.lower().split("_")
    for pattern, label in NAME_RULES.items():
        rx = re.compile(pattern)
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 4) + 1):
                if (rx.fullmatch("_".join(words[i:j])) and not (j < len(words) and words[j] in QUALIFIERS)
                        and not (i > 0 and words[i - 1] in PREFIX_QUALIFIERS)):
                    return label
    return None


def mask(value: str) -> str:
    """Show a matched value without repeating it (``jo***@example.com``, ``+1-***67``)."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:2]}***@{domain}"
    return f"{value[:3]}***{value[-2:]}"


def pii_metadata_keys(project_dir: Path) -> list[str]:
    """Keys of ``seeds/pii_metadata_keys.csv`` (lower case).

    Raises:
        UsageError: the seed file is missing or has no ``key`` column.
    """
    path = project_dir / "seeds" / "pii_metadata_keys.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [r["key"].strip().lower() for r in csv.DictReader(fh) if (r.get("key") or "").strip()]
    except (OSError, KeyError) as exc:
        raise UsageError(f"{path}: cannot read the PII metadata keys ({exc})") from None


def load_allowlist(path: Path | None) -> list[Allowed]:
    """Read an allow-list YAML file (``allow: [{relation, column, rules, reason}]``); None → empty.

    Raises:
        UsageError: unreadable file, unknown rule, or an entry without a reason.
    """
    if path is None or not path.exists():
        if path is not None and path.name != "pii_allowlist.yml":
            raise UsageError(f"--allowlist {path}: no such file")
        return []
    import yaml  # noqa: PLC0415

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: not a readable YAML allow-list ({' '.join(str(exc).split())[:200]})") from None
    out = []
    for i, e in enumerate(doc.get("allow") or [], 1):
        if not isinstance(e, dict) or not e.get("relation") or not e.get("column"):
            raise UsageError(f"{path}: entry {i} needs relation and column")
        rules = e.get("rules") or list(RULES)
        rules = [rules] if isinstance(rules, str) else rules
        bad = [r for r in rules if r not in RULES]
        if bad:
            raise UsageError(f"{path}: entry {i} has unknown rule(s) {', '.join(map(str, bad))} "
                             f"(rules: {', '.join(RULES)})")
        if not str(e.get("reason") or "").strip():
            raise UsageError(f"{path}: entry {i} ({e['relation']}.{e['column']}) has no reason")
        out.append(Allowed(str(e["relation"]).lower(), str(e["column"]).lower(), tuple(rules),
                           " ".join(str(e["reason"]).split())))
    return out


def _json_keys(value, pii_keys: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if str(k).lower() in pii_keys:
                found.add(str(k))
            found |= _json_keys(v, pii_keys)
    elif isinstance(value, list):
        for v in value:
            found |= _json_keys(v, pii_keys)
    return found


def _catalog(conn: psycopg.Connection, schemas: tuple[str, ...]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    rows = conn.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        join information_schema.tables t
            on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = any(%s)
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        (list(schemas),),
    ).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault((schema, table), []).append((column, dtype))
    return out


def _sample_content(conn, schema: str, table: str, cols: list[tuple[str, str]], sample: int,
                    pii_keys: set[str]) -> tuple[list[Finding], int]:
    text_cols = [(c, t) for c, t in cols if t in TEXT_TYPES]
    if not text_cols or sample <= 0:
        return [], 0
    rel = f"{schema}.{table}"
    rows = conn.execute(sql.SQL("select {} from {} limit {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c, _ in text_cols),
        sql.Identifier(schema, table), sql.Literal(sample))).fetchall()
    found: dict[tuple[str, str], Finding] = {}
    for row in rows:
        for (col, dtype), value in zip(text_cols, row):
            if value is None:
                continue
            if dtype in ("json", "jsonb"):
                keys = _json_keys(value, pii_keys)
                if keys and (col, "json_key") not in found:
                    found[(col, "json_key")] = Finding(rel, col, "json_key", f"key(s) {', '.join(sorted(keys))}")
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            else:
                text = value
            for rule, rx in (("email", EMAIL_RE), ("phone", PHONE_RE)):
                if (col, rule) not in found and (m := rx.search(text)):
                    found[(col, rule)] = Finding(rel, col, rule, f"value like {mask(m.group(0))}")
    return list(found.values()), len(rows)


def check(conn: psycopg.Connection, project_dir: Path, allowlist: Path | None = None,
          schemas: tuple[str, ...] = DEFAULT_SCHEMAS, sample: int = DEFAULT_SAMPLE) -> Report:
    """Check every relation of ``schemas`` for PII by column name and sampled content.

    Args:
        conn: connection to the warehouse (only reads).
        project_dir: the dbt project (for ``seeds/pii_metadata_keys.csv``).
        allowlist: YAML allow-list file (None: no exception).
        schemas: schemas to inspect (default staging, intermediate, marts).
        sample: rows read per relation for the content rules (0 disables them).
    Returns:
        a :class:`Report`; ``report.ok`` is False when a finding is not allow-listed.
    Raises:
        UsageError: bad allow-list or seed file.
    """
    allow = load_allowlist(allowlist)
    pii_keys = set(pii_metadata_keys(project_dir))
    catalog = _catalog(conn, schemas)
    report = Report(relations=len(catalog), columns=sum(len(c) for c in catalog.values()))
    raw: list[Finding] = []
    for (schema, table), cols in catalog.items():
        rel = f"{schema}.{table}"
        for col, _ in cols:
            if label := name_rule(col):
                raw.append(Finding(rel, col, "name", f"column name denotes: {label}"))
        found, n = _sample_content(conn, schema, table, cols, sample, pii_keys)
        raw += found
        report.sampled_rows += n
    ev_schema, ev_table, ev_col = EVENTS_RELATION
    if ev_schema in schemas and any(c == ev_col for c, _ in catalog.get((ev_schema, ev_table), [])):
        keys = sorted(pii_keys)
        hits = conn.execute(sql.SQL(
            "select k, count(*) from (select {c} as m from {r} where {c} ?| %s::text[]) e"
            " cross join unnest(%s::text[]) k where e.m ? k group by k order by k").format(
                r=sql.Identifier(ev_schema, ev_table), c=sql.Identifier(ev_col)), (keys, keys)).fetchall()
        for key, n in hits:
            raw.append(Finding(f"{ev_schema}.{ev_table}", ev_col, "metadata_key",
                               f"PII key '{key}' survives in {n:,} row(s) (seeds/pii_metadata_keys.csv)"))
    used: set[Allowed] = set()
    for f in raw:
        entry = next((a for a in allow if a.covers(f)), None)
        if entry is None:
            report.findings.append(f)
        else:
            report.allowed.append((f, entry))
            used.add(entry)
    report.stale = [a for a in allow if a not in used]
    return report
