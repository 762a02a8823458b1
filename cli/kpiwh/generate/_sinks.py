"""Buffered CSV writers: one per raw table, and the event log's own."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

from ._common import _UUID_CLEAR, _UUID_SET, CHUNK_ROWS, DAY, HOUR, PROGRESS_EVERY, TABLE_COLUMNS

COUNTRY_ALPHA3 = {
    "US": "USA",
    "GB": "GBR",
    "CA": "CAN",
    "AU": "AUS",
    "IE": "IRL",
    "DE": "DEU",
    "FR": "FRA",
    "NL": "NLD",
    "SA": "SAU",
    "AE": "ARE",
    "EG": "EGY",
    "KW": "KWT",
    "QA": "QAT",
    "JO": "JOR",
    "MA": "MAR",
    "MN": "MNG",
    "KZ": "KAZ",
    "NZ": "NZL",
}
JUNK_COUNTRIES = ("UK", "XX", "N/A", "EU", "--", "ZZ")


class _Sink:
    """Buffered CSV writer for one table."""

    def __init__(self, path: Path, table: str, progress: Callable[[str, int], None] | None) -> None:
        self.table = table
        self.f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115  (closed by close() / generate()'s finally)
        self.writer = csv.writer(self.f, lineterminator="\n")
        self.writer.writerow(TABLE_COLUMNS[table])
        self.rows: list[tuple] = []
        self.count = 0
        self.progress = progress
        self.next_report = PROGRESS_EVERY

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def maybe_flush(self) -> None:
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.writerows(self.rows)
            self.count += len(self.rows)
            self.rows.clear()
            if self.progress is not None and self.count >= self.next_report:
                self.progress(self.table, self.count)
                self.next_report = (self.count // PROGRESS_EVERY + 1) * PROGRESS_EVERY

    def close(self) -> int:
        self.flush()
        self.f.close()
        if self.progress is not None:
            self.progress(self.table, self.count)
        return self.count


class _EventSink(_Sink):
    """events_raw writer: assigns event_id, received_at and country noise."""

    def __init__(self, path: Path, progress, end: int, day_str: list[str], tod_str: list[str]) -> None:
        super().__init__(path, "events_raw", progress)
        self.end = end
        self.day_str = day_str
        self.tod_str = tod_str
        self._bits = None
        self._rand = None

    def bind(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits
        self._rand = rng.random

    def emit(
        self,
        t,
        tenant_id,
        location_id,
        domain,
        event_type,
        user_id,
        session_id,
        entity_type,
        entity_id,
        status,
        provider,
        service_code,
        country_code,
        amount_cents,
        currency,
        duration,
        metadata,
    ) -> bool:
        """Append one event occurring at second offset t; False if t is outside the window."""
        end = self.end
        if t >= end or t < 0:
            return False
        h = "%032x" % ((self._bits(128) & _UUID_CLEAR) | _UUID_SET)
        u = self._rand()
        if u < 0.005:  # late arrival: 1-4 days later
            r = t + DAY * (1 + int(u * 800.0)) + int(u * 700_000.0) % HOUR
        else:
            r = t + 1 + int(u * u * u * u * 120.0)  # 1-121 s, mean ~25 s
        if r >= end:
            r = end - 1
        if country_code is not None:
            v = self._rand()
            if v < 0.01:
                k = int(v * 4000.0) % 4
                if k == 0:
                    country_code = country_code.lower()
                elif k == 1:
                    country_code = COUNTRY_ALPHA3.get(country_code, "XXX")
                elif k == 2:
                    country_code = " " + country_code.lower()
                else:
                    country_code = JUNK_COUNTRIES[int(v * 60000.0) % len(JUNK_COUNTRIES)]
        ds = self.day_str
        ts = self.tod_str
        # Hand-formatted CSV line, byte-identical to csv.writer (QUOTE_MINIMAL): every text field
        # here is free of commas, quotes and newlines by construction, except metadata (JSON,
        # always containing quotes, hence always quoted). None -> empty unquoted field.
        self.rows.append(
            f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]},"
            f"{ds[t // DAY]}{ts[t % DAY]},{ds[r // DAY]}{ts[r % DAY]},{tenant_id},{location_id or ''},"
            f"{domain},{event_type},{user_id or ''},{session_id or ''},{entity_type or ''},"
            f"{entity_id or ''},{status or ''},{provider or ''},{service_code or ''},{country_code or ''},"
            f"{'' if amount_cents is None else amount_cents},{currency or ''},"
            f"{'' if duration is None else duration},"
            f"{'' if metadata is None else chr(34) + metadata.replace(chr(34), chr(34) * 2) + chr(34)},1\n"
        )
        return True

    def flush(self) -> None:
        if self.rows:
            self.f.write("".join(self.rows))
            self.count += len(self.rows)
            self.rows.clear()
            if self.progress is not None and self.count >= self.next_report:
                self.progress(self.table, self.count)
                self.next_report = (self.count // PROGRESS_EVERY + 1) * PROGRESS_EVERY
