"""The walk cache: a stored walk is reused exactly while nothing the walk read has changed.

Every test compares the imports check's walk (`cached_walk`, cache on) with a fresh walk of
the same tree (cache off) after a change, and checks the change mattered, so a stale result
would fail it. Changed paths are dated back in time by `age` where a test needs the walk
stored: the cache does not store a walk of paths changed in the last two seconds (their
timestamps could still move unseen), and every file a test writes is that new.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trees import write_tree

from preflight.checks.imports import WalkOutcome, cached_walk, walk_entry
from preflight.config import load_config
from preflight.graph.walkcache import walks_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from preflight.report import Finding

MISSING = "nosuchmod_preflight"
_HOUR_AGO = time.time_ns() - 3600 * 10**9
_ticks = itertools.count(1)


def age(*folders: Path) -> None:
    """Date every path under `folders` changed in the last minute back an hour.

    Each call uses a time of its own, so a file rewritten between two calls never gets its
    old signature back.
    """
    stamp = _HOUR_AGO + next(_ticks) * 1_000_000
    recent = time.time_ns() - 60 * 10**9
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            if path.stat().st_mtime_ns > recent:
                os.utime(path, ns=(stamp, stamp))


def check(root: Path, **environ: str) -> WalkOutcome:
    """The imports check's walk of `main` under `root`, walk cache on."""
    config = load_config({"app": "main", "roots": [str(root)]}, environ, root.parent)
    return cached_walk(config)


def fresh(root: Path, **environ: str) -> tuple[Finding, ...]:
    """A walk of the same tree with every cache off: the truth to compare with."""
    off = {**environ, "PREFLIGHT_IMPORTS__CACHE": "false"}
    config = load_config({"app": "main", "roots": [str(root)]}, off, root.parent)
    return tuple(walk_entry(config)[0].findings)


def codes(findings: tuple[Finding, ...]) -> list[tuple[str, str | None]]:
    return sorted((finding.code, finding.module) for finding in findings)


TREE = {
    "main.py": """
        import a
        import json
        import helpers_later
        from pkg import sub, thing
        from ns import spare
        """,
    "a.py": "x = 1\n",
    "pkg/__init__.py": "thing = 1\n",
    "ns/other.py": "",
}


def test_second_run_reuses_the_walk(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    age(root)
    first = check(root)
    assert not first.reused
    assert first.parsed == 3  # main, a and pkg/__init__: ns has no file of its own
    second = check(root)
    assert second.reused
    assert (second.parsed, second.cached) == (0, 3)
    assert second.summary == first.summary
    assert second.summary.findings == fresh(root)


def test_a_walk_of_files_changed_just_now_is_not_stored(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    check(root)
    assert not check(root).reused


def _edit(root: Path) -> None:
    (root / "a.py").write_text(f"import {MISSING}\n")


def _create_missing(root: Path) -> None:
    (root / "helpers_later.py").write_text("")


def _delete_reached(root: Path) -> None:
    (root / "a.py").unlink()


def _shadow_stdlib(root: Path) -> None:
    (root / "json.py").write_text(f"import {MISSING}_shadow\n")


def _add_submodule(root: Path) -> None:
    (root / "pkg" / "sub.py").write_text("")


def _namespace_becomes_package(root: Path) -> None:
    (root / "ns" / "__init__.py").write_text("spare = 1\n")


def _package_loses_init(root: Path) -> None:
    (root / "pkg" / "__init__.py").unlink()


def _init_changes(root: Path) -> None:
    (root / "pkg" / "__init__.py").write_text("thing = 1\nsub = 2\n")


@pytest.mark.parametrize(
    "change",
    [
        _edit,
        _create_missing,
        _delete_reached,
        _shadow_stdlib,
        _add_submodule,
        _namespace_becomes_package,
        _package_loses_init,
        _init_changes,
    ],
)
def test_a_change_the_walk_depends_on_is_seen(tmp_path, change: Callable[[Path], None]) -> None:
    root = write_tree(tmp_path, TREE)
    age(root)
    before = check(root).summary.findings
    assert check(root).reused
    change(root)
    after = check(root)
    assert not after.reused
    assert after.summary.findings == fresh(root)
    assert codes(after.summary.findings) != codes(before)
    age(root)
    assert check(root).summary.findings == after.summary.findings  # stored anew
    assert check(root).reused


def test_an_installed_module_appearing_on_the_path_is_seen(tmp_path, monkeypatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    root = write_tree(tmp_path, {"main.py": "import extlib_later\n"})
    age(root, site)
    assert codes(check(root).summary.findings) == [("PF301", "extlib_later")]
    assert check(root).reused
    (site / "extlib_later.py").write_text("")
    after = check(root)
    assert not after.reused
    assert after.summary.findings == () == fresh(root)


def test_a_requirements_file_naming_the_missing_distribution_is_seen(tmp_path) -> None:
    root = write_tree(tmp_path, {"main.py": "import jwt\n"})
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    environ = {"PREFLIGHT_DISTRIBUTIONS__REQUIREMENTS": json.dumps([str(requirements)])}
    age(tmp_path)
    assert codes(check(root, **environ).summary.findings) == [("PF301", "jwt")]
    assert check(root, **environ).reused
    requirements.write_text("PyJWT\n")
    after = check(root, **environ)
    assert not after.reused
    assert codes(after.summary.findings) == [("PF304", "jwt")]
    assert after.summary.findings == fresh(root, **environ)


def test_each_setting_keeps_its_own_walk(tmp_path) -> None:
    root = write_tree(tmp_path, {"main.py": f"def later():\n    import {MISSING}\n"})
    age(root)
    warned = check(root)
    errored = check(root, PREFLIGHT_IMPORTS__LAZY="error")
    assert not errored.reused
    assert [f.severity.value for f in warned.summary.findings] == ["warning"]
    assert [f.severity.value for f in errored.summary.findings] == ["error"]
    assert check(root).summary == warned.summary
    assert check(root).reused
    assert check(root, PREFLIGHT_IMPORTS__LAZY="error").reused


def test_cache_off_stores_nothing(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    age(root)
    for _ in range(2):
        assert not check(root, PREFLIGHT_IMPORTS__CACHE="false").reused
    assert not walks_file(root).exists()


def test_a_corrupt_walks_file_is_ignored_and_replaced(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    walks_file(root).parent.mkdir()
    walks_file(root).write_bytes(b"\x80\x05 not a pickle")
    age(root)
    assert not check(root).reused
    assert check(root).reused


def test_no_place_to_keep_walks_is_not_an_error(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    (root / "__pycache__").write_text("not a folder")
    age(root)
    for _ in range(2):
        outcome = check(root)
        assert not outcome.reused
        assert outcome.summary.findings == fresh(root)


def test_whole_processes_reuse_the_walk(tmp_path) -> None:
    root = write_tree(tmp_path, TREE)
    age(root)
    command = [sys.executable, "-m", "preflight", "check", "--only", "imports"]
    command += ["--app", "main", "--root", str(root), "--format", "json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}
    runs = [
        json.loads(subprocess.run(command, env=env, capture_output=True, check=False).stdout)
        for _ in range(2)
    ]
    assert [run["checks"][0]["metrics"]["walk_cached"] for run in runs] == [False, True]
    assert runs[0]["findings"] == runs[1]["findings"]
    assert runs[0]["exit_code"] == runs[1]["exit_code"] == 3


# --- any sequence of changes ---------------------------------------------------------------

_MODULES = ("main", "m1", "m2", "m3")
_STATEMENTS = st.sampled_from(
    [
        *(f"import {name}" for name in _MODULES[1:]),
        *(f"from {name} import x" for name in _MODULES[1:]),
        "import pkg.sub",
        "from pkg import sub",
        "from pkg import x",
        f"import {MISSING}",
        "x = 1",
        "def f():\n    import m3",
        "try:\n    import m2\nexcept ImportError:\n    import m1",
    ]
)
_CHANGES = st.one_of(
    st.tuples(
        st.just("write"),
        st.sampled_from([*_MODULES, "pkg/__init__", "pkg/sub"]),
        st.lists(_STATEMENTS, max_size=3),
    ),
    st.tuples(
        st.just("delete"), st.sampled_from([*_MODULES[1:], "pkg/__init__", "pkg/sub"]), st.just([])
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.lists(st.lists(_STATEMENTS, max_size=3), min_size=6, max_size=6),
    changes=st.lists(st.tuples(_CHANGES, st.booleans()), min_size=1, max_size=5),
)
def test_any_changes_leave_the_cached_walk_equal_to_a_fresh_one(
    tmp_path_factory, start: list[list[str]], changes: list[tuple[tuple[str, str, list[str]], bool]]
) -> None:
    names = [*_MODULES, "pkg/__init__", "pkg/sub"]
    root = write_tree(
        tmp_path_factory.mktemp("walks"),
        {f"{name}.py": "\n".join(body) + "\n" for name, body in zip(names, start, strict=True)},
    )
    age(root)
    assert check(root).summary.findings == fresh(root)
    for (action, name, body), settle in changes:
        path = root / f"{name}.py"
        if action == "write":
            path.write_text("\n".join(body) + "\n")
        elif path.exists():
            path.unlink()
        if settle:
            age(root)
        assert check(root).summary.findings == fresh(root)
        assert check(root).summary.findings == fresh(root)
