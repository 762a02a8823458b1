"""kpiwh.runner helpers that need no database: the target folder and whether manifest.json is current."""

from __future__ import annotations

import os
from pathlib import Path

from kpiwh import config, runner


def _touch(path: Path, mtime: float) -> None:
    path.write_text("{}")
    os.utime(path, (mtime, mtime))


def test_manifest_json_is_current_only_when_written_after_the_last_parse_change(tmp_path):
    assert not runner._manifest_json_current(tmp_path)  # neither file
    _touch(tmp_path / "partial_parse.msgpack", 1_000)
    assert not runner._manifest_json_current(tmp_path)  # never written
    _touch(tmp_path / "manifest.json", 900)
    assert not runner._manifest_json_current(tmp_path)  # the project changed after it was written
    _touch(tmp_path / "manifest.json", 1_100)
    assert runner._manifest_json_current(tmp_path)
    (tmp_path / "partial_parse.msgpack").unlink()
    assert not runner._manifest_json_current(tmp_path)  # no partial-parse state: dbt writes it


def test_target_path_follows_the_command():
    assert runner._target_path(["build"]) == config.project_dir() / "target"
    assert runner._target_path(["build", "--target-path", "/x/wap"]) == Path("/x/wap")
    assert runner._target_path(["build", "--target-path=/x/wap"]) == Path("/x/wap")


def test_partial_parse_key_is_the_vars_mapping_not_its_spelling():
    assert runner.partial_parse_key(None) == runner.partial_parse_key("{}") == "default"
    assert runner.partial_parse_key('{"a": 1, "b": "x"}') == runner.partial_parse_key("{b: x, a: 1}")
    assert runner.partial_parse_key("{a: 1}") != runner.partial_parse_key("{a: 2}")
    assert runner.partial_parse_key("{a: 1}") != "default"


def test_each_vars_gets_back_the_partial_parse_file_written_with_them(tmp_path, monkeypatch):
    monkeypatch.delenv("DBT_PARTIAL_PARSE_FILE_PATH", raising=False)
    current = tmp_path / "partial_parse.msgpack"
    manifest_json = tmp_path / "manifest.json"

    def dbt_parses(content: str) -> None:  # what dbt does when the file does not match: rewrite it
        current.write_text(content)

    dbt_parses("no vars")  # dbt's own file, from a run without --vars
    _touch(manifest_json, current.stat().st_mtime)  # dbt wrote it with that run
    assert runner._manifest_json_current(tmp_path)
    runner.use_partial_parse_for(tmp_path, '{"as_of": "2025-01-01"}')
    assert not current.exists()  # nothing kept for these vars yet: dbt parses the whole project
    dbt_parses("as_of 2025-01-01")
    runner.use_partial_parse_for(tmp_path, '{"as_of": "2025-01-01"}')
    assert current.read_text() == "as_of 2025-01-01"  # same vars: left alone
    runner.use_partial_parse_for(tmp_path, None)
    assert current.read_text() == "no vars"
    # manifest.json was written with other vars since: not current for this file
    assert not runner._manifest_json_current(tmp_path)
    runner.use_partial_parse_for(tmp_path, "{as_of: '2025-01-01'}")
    assert current.read_text() == "as_of 2025-01-01"

    # only the last PARTIAL_PARSE_KEPT other vars are kept
    for day in range(1, runner.PARTIAL_PARSE_KEPT + 3):
        runner.use_partial_parse_for(tmp_path, f"{{as_of: '2025-02-{day:02d}'}}")
        dbt_parses(f"as_of 2025-02-{day:02d}")
    kept = sorted(p.read_text() for p in (tmp_path / "partial_parse_by_vars").glob("*.msgpack"))
    assert len(kept) == runner.PARTIAL_PARSE_KEPT
    assert "as_of 2025-02-07" in kept and "no vars" not in kept

    # a file chosen by the caller: nothing moves
    monkeypatch.setenv("DBT_PARTIAL_PARSE_FILE_PATH", str(tmp_path / "elsewhere.msgpack"))
    runner.use_partial_parse_for(tmp_path, None)
    assert current.read_text() == "as_of 2025-02-08"
