"""Output for people and machines: tables that never cut an id, progress that reaches a log.

- :func:`print_table`: a Rich table fits the terminal by wrapping its text columns (and,
  when that is not enough, by folding long ids onto a second line of their cell): no cell
  is ever cut short with an ellipsis; when the output is not a terminal (a pipe, a file, a
  CI log) every row stays on one line whatever ``COLUMNS`` says, so ``grep`` and log
  readers see whole values.
- :func:`id_column`: a column whose values are identifiers (never wrapped, never cut).
- :func:`progress`: a spinner in a terminal; elsewhere a plain line on stderr every few
  seconds (``KPI_PROGRESS_SECONDS``, default 5; the first after 10 s) until the work ends.
- :func:`kpi_command`: how the user should call ``kpi`` in a hint (``.venv/bin/kpi`` when the
  venv is not activated).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.measure import Measurement
from rich.segment import Segments
from rich.table import Table

#: seconds between two plain progress lines when stderr is not a terminal
DEFAULT_PROGRESS_SECONDS = 5.0


def id_column(table: Table, header: str, values: list[str] | None = None, **kw) -> None:
    """Add a column of identifiers: never wrapped nor cut, as wide as its longest value.

    Args:
        table: the Rich table.
        header: column header.
        values: the column's values (str), to size it; None = measured by Rich.
        **kw: other ``Table.add_column`` arguments (justify, style).
    """
    width = max([len(header), *(len(v) for v in values or [])])
    table.add_column(header, no_wrap=True, overflow="fold", min_width=width, **kw)


def text_column(table: Table, header: str, **kw) -> None:
    """Add a column of free text (messages): wraps at word boundaries, folds a word longer than the column."""
    table.add_column(header, no_wrap=False, overflow="fold", **kw)


def print_table(console: Console, table, **kw) -> None:
    """Print a table (or a Group of tables, or any renderable) so that no cell is cut short.

    In a terminal: the terminal's width. Text columns wrap; id columns stay on one line
    when the table fits that way, else every column folds (an id continues on the next
    line of its cell, whole) so the table still fits the terminal. Not a terminal (pipe,
    file, CI log): the table's full natural width, one line per row whatever ``COLUMNS``
    says, so logs and ``grep`` see every value whole.

    Args:
        console: where to print.
        table: a Rich Table, a Group of renderables, or any other renderable.
        **kw: passed to ``Console.print``.
    """
    measure = Measurement.get(console, console.options.update_width(10_000), table)
    if console.is_terminal:
        if measure.minimum > console.width:
            _fold_every_column(table)
        console.print(table, **kw)
        return
    width = max(console.width, measure.maximum)
    if width == console.width:
        console.print(table, **kw)
        return
    # Console.print never renders wider than the console: render at the width needed, print as is
    console.print(Segments(console.render(table, console.options.update_width(width))), crop=False, **kw)


def _fold_every_column(renderable) -> None:
    """Let every column of the table(s) wrap and fold: the narrowest layout that cuts nothing."""
    tables = (
        [renderable]
        if isinstance(renderable, Table)
        else [r for r in getattr(renderable, "renderables", []) if isinstance(r, Table)]
    )
    for t in tables:
        for col in t.columns:
            col.no_wrap, col.overflow, col.min_width = False, "fold", None


def _interval() -> float:
    try:
        return max(0.2, float(os.environ.get("KPI_PROGRESS_SECONDS", DEFAULT_PROGRESS_SECONDS)))
    except ValueError:
        return DEFAULT_PROGRESS_SECONDS


class PlainProgress:
    """Progress as plain lines (stderr not a terminal): one every few seconds while the work lasts.

    The first line comes after two intervals (10 s by default), then one per interval: work
    that ends sooner — a quick command, or one that fails on bad input with its one-line
    error — prints none. ``update(text)`` changes what the next line says; :meth:`line`
    prints one now. Lines are ``<text> (<elapsed>s)``. Used as a context manager (a daemon
    thread ticks while inside).
    """

    def __init__(self, console: Console, text: str, interval: float | None = None):
        """Args: console: where lines go (stderr); text: first line; interval: seconds between lines."""
        self.console = console
        self.text = text
        self.interval = _interval() if interval is None else interval
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._tick, daemon=True, name="kpi-progress")

    def update(self, text: str) -> None:
        """Set the text of the next progress line (does not print)."""
        with self._lock:
            self.text = text

    def line(self) -> None:
        """Print one progress line now."""
        with self._lock:
            text = self.text
        self.console.print(
            f"{text} ({time.monotonic() - self._started:.0f}s)", highlight=False, markup=False, soft_wrap=True
        )

    def _tick(self) -> None:
        if self._stop.wait(self.interval):  # the first line after two intervals
            return
        while not self._stop.wait(self.interval):
            self.line()

    def __enter__(self) -> PlainProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def progress(console: Console, text: str) -> Iterator:
    """A status display for long work: Rich's spinner in a terminal, else :class:`PlainProgress` lines.

    Args:
        console: the stderr console.
        text: what is being done (updatable through the yielded object's ``update(text)``).
    """
    if console.is_terminal:
        with console.status(text) as st:
            yield st
    else:
        with PlainProgress(console, text) as st:
            yield st


def kpi_command() -> str:
    """How to call this ``kpi`` in a hint: ``kpi`` when that is the one on PATH, else its path.

    After ``python3 -m venv .venv && .venv/bin/pip install -e .`` the venv is not
    activated: the hint then says ``.venv/bin/kpi`` (relative to the current folder when
    inside it, else absolute).
    """
    exe = Path(sys.executable).parent / "kpi"
    if not exe.exists():
        return "kpi"
    on_path = shutil.which("kpi")
    if on_path and Path(on_path).resolve() == exe.resolve():
        return "kpi"
    try:
        return str(exe.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(exe.absolute())
