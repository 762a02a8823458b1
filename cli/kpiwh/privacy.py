"""PII guard: no staging, intermediate or mart relation exposes personal data (seed 004).

Seed 004 "Privacy-first design: No PII storage"; SPEC "no mart holds an email,
phone or name column"; staging drops the PII columns of ``raw.customers``,
scrubs the keys of ``seeds/pii_metadata_keys.csv`` from event metadata and
scrubs e-mail addresses, phone numbers and the customer's own names from free
text (macros ``scrub_pii_text`` / ``scrub_pii_json``). :func:`check` verifies
all of it on a built warehouse, reading the catalog
(``information_schema.columns``) rather than dbt's manifest, so it sees what
BI tools see — including a relation nobody documented — and reading EVERY row
of every text and JSON column (a server-side cursor, streamed in batches;
nothing is sampled).

Rules (a finding = relation, column, rule, rows, redacted sample):

* ``name``: a column's NAME is a PII attribute — one of :data:`NAME_RULES`
  (email, phone, mobile, given/first/last/family/middle/full name, surname,
  address, street, ip / ip_address, birth date) as a whole word of the
  snake_case name (``customer_email``, ``email_address``, ``ip``) — but a
  word followed by a qualifier that makes it a property of the thing, not
  the thing (``email_type``, ``phone_verified``, ``mail_success_rate``) is
  not (see :func:`name_rule`).
* ``email``: a text or JSON value holds an e-mail address, plain or
  obfuscated (``jane(at)example.com``, ``jane [at] example [dot] com``,
  ``jane at example dot com``) — :func:`find_emails`.
* ``phone``: a text or JSON value holds a phone number — candidates shaped
  like one (international ``+CC``/``00CC``, national with a trunk ``0``,
  North-American 3-3-4; never a date, a time, part of an id or a bare run of
  digits) confirmed by Google's libphonenumber (the ``phonenumbers``
  package) as a possible number of the tenants' countries (``raw.tenants``)
  or of GB/US — :func:`find_phones`.
* ``person_name``: a text or JSON value holds a person's name known from
  ``raw.customers``: in a relation with ``organization_id`` and
  ``customer_id``, the row's own customer's given or family name (whole
  words, case- and accent-insensitive: the rule of ``scrub_pii_text``); in
  every relation, any customer's full name ("given family").
* ``json_key``: a JSON value carries, at any depth, a key listed in
  ``seeds/pii_metadata_keys.csv``.
* ``metadata_key``: ``stg_platform__events.metadata`` still holds a top-level
  key of ``seeds/pii_metadata_keys.csv`` (the jsonb ``?|`` operator, counted
  per key): it is the scrub staging promises.

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
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
import psycopg
import yaml  # PyYAML, installed with dbt-core
from psycopg import sql

from .errors import UsageError

DEFAULT_SCHEMAS = ("staging", "intermediate", "marts")
RULES = ("name", "email", "phone", "person_name", "json_key", "metadata_key")
TEXT_TYPES = {"text", "character varying", "character", "json", "jsonb"}
JSON_TYPES = {"json", "jsonb"}
EVENTS_RELATION = ("staging", "stg_platform__events", "metadata")
DEFAULT_PHONE_REGIONS = ("GB", "US")  # national formats always tried, besides the tenants' countries
BATCH_ROWS = 5000  # rows per round trip of the server-side cursor

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
    "type",
    "kind",
    "status",
    "sent",
    "delivered",
    "failed",
    "opened",
    "bounced",
    "count",
    "counts",
    "rate",
    "share",
    "pct",
    "verified",
    "confirmed",
    "opt",
    "optin",
    "optout",
    "opted",
    "consent",
    "domain",
    "country",
    "provider",
    "template",
    "channel",
    "is",
    "has",
    "flag",
    "present",
    "hash",
    "hashed",
    "sha256",
    "id",
    "key",
}
# words before a PII word that make the column a flag or count about it (is_email, n_phone)
PREFIX_QUALIFIERS = {"is", "has", "n", "num", "count", "valid", "invalid"}

# e-mail addresses, plain or obfuscated; the rule of macros/privacy/scrub_pii_text.sql
_SPELLED_DOT = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
_ANY_DOT = rf"(?:\.|{_SPELLED_DOT})"
_LOCAL, _LABEL, _TLD = r"[\w.%+-]+", r"[\w-]+", r"[^\W\d_]{2,}(?!\w)"
EMAIL_RE = re.compile(
    r"(?<!\\)(?:"
    rf"{_LOCAL}\s*(?:@|[(\[{{<]\s*at\s*[)\]}}>])\s*{_LABEL}(?:{_ANY_DOT}{_LABEL})*{_ANY_DOT}{_TLD}"
    rf"|{_LOCAL}\s+at\s+{_LABEL}(?:{_SPELLED_DOT}{_LABEL})*{_SPELLED_DOT}{_TLD})",
    re.IGNORECASE,
)
# a run shaped like a phone number: digits with spaces, dots, dashes, parentheses; never inside a
# longer token (ids, uuids), right after a time's colon, or before a time, a decimal or a path
PHONE_CANDIDATE_RE = re.compile(
    r"(?:(?<=\\[nrt])|(?<![\w+/.\\-])(?<!\d:))"
    r"(?:\+|00)?\(?\d[\d ().-]{5,24}\d"
    r"(?![\w/-])(?!:\d)(?![.,]\d)"
)
_DATE_RE = re.compile(r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
_NANP_RE = re.compile(r"(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]\d{4}")
# letters NFKD does not decompose
_FOLD_EXTRA = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "ı": "i", "’": "'", "ß": "ss"})


def find_emails(text: str) -> list[str]:
    """E-mail addresses in ``text``, plain or obfuscated (``jane(at)example.com``,
    ``jane [at] example [dot] com``, ``jane at example dot com``); a bare "at"
    counts only when the dots are spelled out too (``at example.com`` is a website)."""
    if "@" not in text and "at" not in text.lower():  # cheap: most values are ids and codes
        return []
    return [m.group(0) for m in EMAIL_RE.finditer(text)]


def find_phones(text: str, regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> list[str]:
    """Phone numbers in ``text``: shaped like one, confirmed by libphonenumber.

    A candidate (:data:`PHONE_CANDIDATE_RE`) with 8-15 digits that is not a
    date and has balanced parentheses counts when libphonenumber finds it a
    possible number (``is_possible_number_with_reason`` is ``IS_POSSIBLE``): with a
    ``+`` or ``00`` prefix as an international number; with a trunk ``0`` as a
    national number of one of ``regions`` (ISO 3166 alpha-2 codes); otherwise
    only in the North-American 3-3-4 shape (``(555) 123-4567``), as a US number.
    A bare run of digits without ``+``/``0`` (an id, an amount) never counts.
    """

    def possible(cand: str) -> bool:
        digits = sum(c.isdigit() for c in cand)
        if not 8 <= digits <= 15 or _DATE_RE.fullmatch(cand.strip("()")) or cand.count("(") != cand.count(")"):
            return False
        if cand.startswith(("+", "00")):
            tries = [("+" + cand[2:] if cand.startswith("00") else cand, None)]
        elif cand.lstrip("(").startswith("0"):
            tries = [(cand, r) for r in regions]
        elif _NANP_RE.fullmatch(cand):
            tries = [(cand, "US")]
        else:
            return False
        for number, region in tries:
            try:
                reason = phonenumbers.is_possible_number_with_reason(phonenumbers.parse(number, region))
            except phonenumbers.NumberParseException:
                continue
            if reason == phonenumbers.ValidationResult.IS_POSSIBLE:  # not "local only" (too short)
                return True
        return False

    found = []
    for m in PHONE_CANDIDATE_RE.finditer(text):
        cand = m.group(0)
        # the run may have swallowed a number after the phone ("... 0958 12 times"): shorter prefixes too
        cuts = [cand] + [cand[: s.start()] for s in reversed(list(re.finditer(r"[ .()-]+", cand)))]
        if hit := next((c for c in cuts if possible(c)), None):
            found.append(hit)
    return found


def fold(text: str) -> str:
    """``text`` in lower case without accents (Zoë → zoe, Müller → muller, Łukasz → lukasz)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_parts(*names: str | None) -> list[str]:
    """The name strings a person is recognised by (the rule of macro ``pii_name_pattern``).

    Each name as written (trimmed, 2+ characters) and each capitalised part of 3+
    characters of a name of several parts ("van der Berg" → "van der Berg", "Berg").
    """
    out: set[str] = set()
    for n in names:
        n = (n or "").strip()
        if len(n) >= 2:
            out.add(n)
        out |= {p for p in re.split(r"[\s-]+", n) if len(p) >= 3 and p[0].isupper()}
    return sorted(out, key=lambda p: (-len(p), p))


def name_regex(*names: str | None) -> re.Pattern | None:
    """A regex finding any of :func:`name_parts` as whole words in :func:`fold`-ed text, or None."""
    alts = []
    for p in name_parts(*names):
        rx = re.escape(fold(p))
        rx = re.sub(r"(\\\s)+", r"\\s+", rx).replace("'", "['’]?").replace(r"\-", r"[-\s]?")
        alts.append(rx)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)") if alts else None


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


@dataclass(frozen=True)
class Finding:
    """One exposure: ``relation`` (schema.table), ``column``, ``rule`` (see :data:`RULES`), ``detail``.

    ``rows``: rows of the relation where the rule fired (0 for the ``name`` rule, about the
    column itself); ``sample``: one offending value, redacted (:func:`mask`).
    """

    relation: str
    column: str
    rule: str
    detail: str
    rows: int = 0
    sample: str = ""


@dataclass(frozen=True)
class Allowed:
    """One allow-list entry: relation/column patterns, the rules it waives, why."""

    relation: str
    column: str
    rules: tuple[str, ...]
    reason: str

    def covers(self, f: Finding) -> bool:
        """True when this entry waives finding ``f``."""
        return (
            fnmatch.fnmatchcase(f.relation, self.relation)
            and fnmatch.fnmatchcase(f.column, self.column)
            and f.rule in self.rules
        )


@dataclass
class Report:
    """What :func:`check` saw: findings (failures), waived findings, stale entries, counts."""

    findings: list[Finding] = field(default_factory=list)
    allowed: list[tuple[Finding, Allowed]] = field(default_factory=list)
    stale: list[Allowed] = field(default_factory=list)
    relations: int = 0
    columns: int = 0
    rows_scanned: int = 0

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
                if (
                    rx.fullmatch("_".join(words[i:j]))
                    and not (j < len(words) and words[j] in QUALIFIERS)
                    and not (i > 0 and words[i - 1] in PREFIX_QUALIFIERS)
                ):
                    return label
    return None


def mask(value: str) -> str:
    """Show a matched value without repeating it (``jo***@example.com``, ``+1-***67``, ``Z***``)."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:2]}***@{domain}"
    if not any(c.isdigit() for c in value):  # a name, or an obfuscated address: its first letter
        return f"{value[:1]}***"
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
            raise UsageError(
                f"{path}: entry {i} has unknown rule(s) {', '.join(map(str, bad))} (rules: {', '.join(RULES)})"
            )
        if not str(e.get("reason") or "").strip():
            raise UsageError(f"{path}: entry {i} ({e['relation']}.{e['column']}) has no reason")
        out.append(
            Allowed(
                str(e["relation"]).lower(), str(e["column"]).lower(), tuple(rules), " ".join(str(e["reason"]).split())
            )
        )
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


def _json_strings(value) -> list[str]:
    """Every string (keys and values) inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(k) for k in value] + [t for v in value.values() for t in _json_strings(v)]
    if isinstance(value, list):
        return [t for v in value for t in _json_strings(v)]
    return []


@dataclass
class _People:
    """What raw.customers tells about people: per-customer names, and every full name."""

    names: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)
    full_names: set[tuple[str, ...]] = field(default_factory=set)  # folded words of "given family"
    lengths: set[int] = field(default_factory=set)
    _rx: dict[tuple[str, str], re.Pattern | None] = field(default_factory=dict)

    def regex(self, key: tuple[str, str]) -> re.Pattern | None:
        """The name regex of customer ``key`` (organization_id, customer_id), cached."""
        if key not in self._rx:
            self._rx[key] = name_regex(*self.names[key]) if key in self.names else None
        return self._rx[key]

    def full_name_in(self, text: str) -> str | None:
        """A customer's full name found in ``text`` (as written there), or None."""
        if not self.full_names or not any(c.isspace() for c in text):
            return None
        words = _words(text)
        for n in self.lengths:
            for i in range(len(words) - n + 1):
                if tuple(words[i : i + n]) in self.full_names:
                    return " ".join(words[i : i + n])
        return None


def _people(conn: psycopg.Connection) -> _People:
    people = _People()
    if conn.execute("select to_regclass('raw.customers')").fetchone()[0] is None:
        return people
    with conn.transaction(), conn.cursor(name="kpi_pii_customers") as cur:
        cur.itersize = BATCH_ROWS
        cur.execute("select organization_id, customer_id, given_name, family_name from raw.customers")
        for org, cid, given, family in cur:
            people.names[(org, cid)] = (given, family)
            if (given or "").strip() and (family or "").strip():
                words = tuple(_words(f"{given} {family}"))
                if len(words) >= 2:
                    people.full_names.add(words)
                    people.lengths.add(len(words))
    return people


def _phone_regions(conn: psycopg.Connection) -> tuple[str, ...]:
    """GB, US and the tenants' countries (raw.tenants.country_code), for national numbers."""
    regions = list(DEFAULT_PHONE_REGIONS)
    if conn.execute("select to_regclass('raw.tenants')").fetchone()[0] is not None:
        regions += [
            r
            for (r,) in conn.execute(
                "select distinct upper(trim(country_code)) from raw.tenants where country_code ~ '^ *[A-Za-z]{2} *$'"
                " order by 1"
            )
            if r not in regions
        ]
    return tuple(regions)


class _Tally:
    """Findings of one relation: rows per (column, rule) and the first value seen, redacted."""

    def __init__(self, rel: str):
        self.rel = rel
        self.rows: dict[tuple[str, str], int] = {}
        self.sample: dict[tuple[str, str], str] = {}
        self.detail: dict[tuple[str, str], str] = {}

    def hit(self, col: str, rule: str, value: str, detail: str = "") -> None:
        key = (col, rule)
        self.rows[key] = self.rows.get(key, 0) + 1
        self.sample.setdefault(key, mask(value))
        if detail:
            self.detail.setdefault(key, detail)

    def findings(self) -> list[Finding]:
        out = []
        for (col, rule), n in self.rows.items():
            what = self.detail.get((col, rule)) or f"e.g. {self.sample[(col, rule)]}"
            out.append(Finding(self.rel, col, rule, f"{n:,} row(s), {what}", n, self.sample[(col, rule)]))
        return out


def _scan_relation(
    conn: psycopg.Connection,
    schema: str,
    table: str,
    cols: list[tuple[str, str]],
    pii_keys: set[str],
    people: _People,
    regions: tuple[str, ...],
) -> tuple[list[Finding], int]:
    """Read every row of the text/JSON columns of one relation (server-side cursor) and tally findings."""
    text_cols = [(c, t) for c, t in cols if t in TEXT_TYPES]
    if not text_cols:
        return [], 0
    names = {c for c, _ in cols}
    own = people.names and {"organization_id", "customer_id"} <= names
    select = [sql.SQL("t.{}::text").format(sql.Identifier(c)) for c, _ in text_cols]
    if own:
        select += [sql.SQL("t.organization_id::text"), sql.SQL("t.customer_id::text")]
    query = sql.SQL("select {} from {} as t").format(sql.SQL(", ").join(select), sql.Identifier(schema, table))
    tally = _Tally(f"{schema}.{table}")
    key_needles = [f'"{k}"' for k in pii_keys]
    n = 0
    with conn.transaction(), conn.cursor(name="kpi_pii_scan") as cur:
        cur.itersize = BATCH_ROWS
        cur.execute(query)
        for row in cur:
            n += 1
            subject_rx = people.regex((row[-2], row[-1])) if own else None
            for (col, dtype), value in zip(text_cols, row):
                if not value:
                    continue
                texts = [value]
                if dtype in JSON_TYPES:
                    decoded = json.loads(value)
                    texts = _json_strings(decoded)
                    low = value.lower()
                    if any(k in low for k in key_needles) and (keys := _json_keys(decoded, pii_keys)):
                        tally.hit(col, "json_key", value, f"key(s) {', '.join(sorted(keys))}")
                hit_email = hit_phone = hit_name = False
                for text in texts:
                    if not hit_email and (m := find_emails(text)):
                        tally.hit(col, "email", m[0])
                        hit_email = True
                    if not hit_phone and (m := find_phones(text, regions)):
                        tally.hit(col, "phone", m[0])
                        hit_phone = True
                    if not hit_name:
                        found = None
                        if subject_rx is not None and (mm := subject_rx.search(fold(text))):
                            found = mm.group(0)
                        found = found or people.full_name_in(text)
                        if found:
                            tally.hit(col, "person_name", found)
                            hit_name = True
    return tally.findings(), n


def check(
    conn: psycopg.Connection,
    project_dir: Path,
    allowlist: Path | None = None,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
) -> Report:
    """Check every relation of ``schemas`` for PII by column name and by the content of every row.

    Args:
        conn: connection to the warehouse (only reads; autocommit or not).
        project_dir: the dbt project (for ``seeds/pii_metadata_keys.csv``).
        allowlist: YAML allow-list file (None: no exception).
        schemas: schemas to inspect (default staging, intermediate, marts).
    Returns:
        a :class:`Report`; ``report.ok`` is False when a finding is not allow-listed.
    Raises:
        UsageError: bad allow-list or seed file.
    """
    allow = load_allowlist(allowlist)
    pii_keys = set(pii_metadata_keys(project_dir))
    catalog = _catalog(conn, schemas)
    people = _people(conn)
    regions = _phone_regions(conn)
    report = Report(relations=len(catalog), columns=sum(len(c) for c in catalog.values()))
    raw: list[Finding] = []
    for (schema, table), cols in catalog.items():
        rel = f"{schema}.{table}"
        for col, _ in cols:
            if label := name_rule(col):
                raw.append(Finding(rel, col, "name", f"column name denotes: {label}"))
        found, n = _scan_relation(conn, schema, table, cols, pii_keys, people, regions)
        raw += found
        report.rows_scanned += n
    ev_schema, ev_table, ev_col = EVENTS_RELATION
    if ev_schema in schemas and any(c == ev_col for c, _ in catalog.get((ev_schema, ev_table), [])):
        keys = sorted(pii_keys)
        hits = conn.execute(
            sql.SQL(
                "select k, count(*) from (select {c} as m from {r} where {c} ?| %s::text[]) e"
                " cross join unnest(%s::text[]) k where e.m ? k group by k order by k"
            ).format(r=sql.Identifier(ev_schema, ev_table), c=sql.Identifier(ev_col)),
            (keys, keys),
        ).fetchall()
        for key, n in hits:
            raw.append(
                Finding(
                    f"{ev_schema}.{ev_table}",
                    ev_col,
                    "metadata_key",
                    f"PII key '{key}' survives in {n:,} row(s) (seeds/pii_metadata_keys.csv)",
                    n,
                    key,
                )
            )
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


def to_jsonable(report: Report) -> dict:
    """The report as plain JSON data (``kpi pii-check --format json``)."""

    def finding(f: Finding) -> dict:
        return {
            "relation": f.relation,
            "column": f.column,
            "rule": f.rule,
            "rows": f.rows,
            "sample": f.sample,
            "detail": f.detail,
        }

    return {
        "ok": report.ok,
        "relations": report.relations,
        "columns": report.columns,
        "rows_scanned": report.rows_scanned,
        "findings": [finding(f) for f in report.findings],
        "allowed": [{**finding(f), "reason": a.reason} for f, a in report.allowed],
        "stale": [{"relation": a.relation, "column": a.column, "rules": list(a.rules)} for a in report.stale],
    }
