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
