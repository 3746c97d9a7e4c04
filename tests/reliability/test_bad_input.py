"""Bad input: generated sources through the scanner and the walker, hostile trees, bad config.

Nothing may escape as an exception: an unparseable reachable file is a PF303 finding, a bad
config file or variable is exit 2 with one line. The number of generated examples is recorded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import child_env, run_preflight
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflight.config import ConfigError, load_config
from preflight.graph.model import ModuleScan
from preflight.graph.scanner import scan

pytestmark = pytest.mark.reliability

EXAMPLES: dict[str, int] = {}

SNIPPETS = [
    "import os",
    "import app.missing",
    "from app import gen",
    "from . import sibling",
    "from .. import up",
    "from app.gen import *",
    "__all__ = ['a', 'nope']",
    "try:\n    import yaml\nexcept ImportError:\n    yaml = None",
    "if TYPE_CHECKING:\n    import typing_only",
    "def f():\n    import lazy_thing\n    return lazy_thing",
    "class C(Base):\n    import inner",
    "x = create_app()",
    "@decorate\ndef g(): pass",
    "importlib.import_module('app.dyn')",
    "__import__('json')",
    "if sys.version_info >= (3, 12):\n    import tomllib",
    "lambda: __import__('x')",
    'x = f"{1:{2}}"',
    "async def h():\n    await thing",
    "match x:\n    case 1: import matched",
    "(" * 50 + "1" + ")" * 50,
    "[" * 300 + "]" * 300,
    "if a:\n" + "".join(f"{' ' * (i + 1)}if a:\n" for i in range(90)) + " " * 92 + "pass",
    "x = '\\N{BOGUS NAME}'",
    "b'\\xff' + '\\ud800'",
    "\x00",
    "def",
    "\\",
    "'''unterminated",
]
COOKIES = [
    b"",
    b"# -*- coding: latin-1 -*-\n",
    b"# coding: bogus-codec\n",
    b"# vim: set fileencoding=cp1252 :\n",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf# coding: latin-1\n",
    b"# coding: utf-16\n",
    b"#!/usr/bin/env python\n# coding=ascii\n",
]
ENDINGS = [b"\n", b"\r\n", b"\r", b"\x0c\n", b"\n\x0c"]

sources = st.one_of(
    st.binary(max_size=3000),
    st.builds(
        lambda cookie, parts, ending, tail: (
            cookie + ending.join(part.encode("utf-8", "surrogatepass") for part in parts) + tail
        ),
        st.sampled_from(COOKIES),
        st.lists(st.sampled_from(SNIPPETS), max_size=12),
        st.sampled_from(ENDINGS),
        st.binary(max_size=20),
    ),
    st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=sources)
def test_the_scanner_never_raises(source):
    EXAMPLES["scanner"] = EXAMPLES.get("scanner", 0) + 1
    assert isinstance(scan(source), ModuleScan)


def _config(root: Path, **extra: object):
    return load_config(
        {"app": "app.main", "roots": [str(root)], "imports": {"cache": False}, **extra}, {}, root
    )


def _write_tree(root: Path, generated: bytes) -> None:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "__init__.py").write_bytes(b"")
    (root / "app" / "main.py").write_bytes(b"import app.gen\n")
    (root / "app" / "gen.py").write_bytes(generated)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=sources)
def test_the_walker_reports_unparseable_reachable_files_as_pf303(source):
    from preflight.checks.imports import walk_entry  # noqa: PLC0415

    EXAMPLES["walker"] = EXAMPLES.get("walker", 0) + 1
    root = Path(tempfile.mkdtemp(prefix="preflight-bad-"))
    try:
        _write_tree(root, source)
        result, _, _ = walk_entry(_config(root))
        broken = scan(source).syntax_error is not None
        pf303 = [f for f in result.findings if f.code == "PF303" and f.module == "app.gen"]
        assert bool(pf303) == broken
    finally:
        shutil.rmtree(root)


def test_generated_example_counts(record_figure):
    """Runs after the generated tests in this module (pytest keeps file order)."""
    for name, count in sorted(EXAMPLES.items()):
        record_figure(f"bad input: generated sources through the {name}", count, "examples")
    assert EXAMPLES.get("scanner", 0) > 0
    assert EXAMPLES.get("walker", 0) > 0


def test_a_huge_reachable_file_is_walked(tmp_path):
    from preflight.checks.imports import walk_entry  # noqa: PLC0415

    body = b"".join(b"value_%d = %d  # padding padding padding\n" % (i, i) for i in range(150_000))
    _write_tree(tmp_path, b"import os\n" + body + b"import app.absent\n")
    result, _, _ = walk_entry(_config(tmp_path))
    assert [f.code for f in result.findings] == ["PF301"]
    assert result.findings[0].line == 150_002


def test_symlink_loops_in_a_root_end(tmp_path):
    from preflight.checks.imports import walk_entry  # noqa: PLC0415

    _write_tree(tmp_path, b"import app.loop.loop.loop.gen\nimport app.nowhere\n")
    (tmp_path / "app" / "loop").symlink_to(tmp_path / "app", target_is_directory=True)
    (tmp_path / "app" / "self").symlink_to("self")
    (tmp_path / "app" / "nowhere.py").symlink_to(tmp_path / "app" / "nowhere.py")
    result, _, _ = walk_entry(_config(tmp_path))
    # The looped path is a real package path to Python too, so `gen` runs twice (as CPython
    # runs it), and the self-linked file is no module: each run of `gen` reports it.
    assert "app.loop.loop.loop.gen" in result.modules
    assert [(f.code, f.module) for f in result.findings] == [("PF301", "app.nowhere")] * 2


def test_an_entry_that_is_a_package(tmp_path):
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").write_text("import svc.missing\n", encoding="utf-8")
    done = run_preflight(
        "check", "--app", "svc", "--root", str(tmp_path), "--only", "imports", "--format", "json"
    )
    assert done.returncode == 3
    assert [f["code"] for f in json.loads(done.stdout)["findings"]] == ["PF301"]


def test_a_root_that_does_not_exist_is_a_usage_error(tmp_path):
    done = run_preflight("check", "--app", "svc", "--root", str(tmp_path / "absent"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "is not a directory" in done.stderr
    assert "Traceback" not in done.stderr


WALK_AS_NOBODY = """
import os, sys, json
from pathlib import Path
from preflight.checks.imports import walk_entry
from preflight.config import load_config
import preflight.graph.loader, preflight.graph.resolver, preflight.graph.walker
import preflight.graph.cache, preflight.graph.verdict, preflight.graph.program
import packaging.requirements
root = Path(sys.argv[1])
config = load_config({"app": "app.main", "roots": [str(root)]}, {}, root)
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
result, _, _ = walk_entry(config)
print(json.dumps([[f.code, f.module, f.message] for f in result.findings]))
"""


def test_unreadable_files_and_folders_are_findings_not_crashes():
    # As root every file is readable, so the walk drops to `nobody` after its imports.
    root = Path(tempfile.mkdtemp(prefix="preflight-perm-"))
    try:
        root.chmod(0o755)
        _write_tree(root, b"import app.secret_module\nimport app.closed.inner\n")
        for path in [root / "app", *root.glob("app/*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "app" / "secret_module.py").write_text("x = 1\n", encoding="utf-8")
        (root / "app" / "secret_module.py").chmod(0o000)
        closed = root / "app" / "closed"
        closed.mkdir()
        (closed / "__init__.py").write_text("", encoding="utf-8")
        (closed / "inner.py").write_text("", encoding="utf-8")
        closed.chmod(0o000)
        done = subprocess.run(
            [sys.executable, "-c", WALK_AS_NOBODY, str(root)],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        findings = {module: (code, message) for code, module, message in json.loads(done.stdout)}
        assert findings["app.secret_module"][0] == "PF303"
        assert "cannot read" in findings["app.secret_module"][1]
        assert "app.closed" in findings or "app.closed.inner" in findings
    finally:
        for path in root.rglob("*"):
            if not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


# --- configuration ---------------------------------------------------------------------------

KEYS = [
    "app",
    "roots",
    "budget",
    "only",
    "skip",
    "format",
    "log_format",
    "report",
    "strict",
    "termination_log",
    "bogus",
    "imports",
    "database",
    "services",
    "middleware",
    "settings",
    "distributions",
    "run",
    "probe",
]
SUBKEYS = ["lazy", "ignore", "cache", "url", "url_env", "connect_timeout", "order", "class", "x"]
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["15s", "0", "-1s", "2m", "1e999", "nan", "imports,bogus", "a:b()", ""]),
    st.lists(st.text(max_size=10), max_size=3),
    st.floats(allow_nan=True),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(str(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


documents = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda top, tables: (
            "".join(f"{k} = {_toml_value(v)}\n" for k, v in top.items())
            + "".join(
                f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in body.items())
                for name, body in tables.items()
            )
        ),
        st.dictionaries(st.sampled_from(KEYS), scalars, max_size=5),
        st.dictionaries(
            st.sampled_from(KEYS), st.dictionaries(st.sampled_from(SUBKEYS), scalars), max_size=3
        ),
    ),
)
environments = st.dictionaries(
    st.sampled_from(
        [f"PREFLIGHT_{k.upper()}" for k in KEYS]
        + ["PREFLIGHT_DATABASE__URL", "PREFLIGHT_IMPORTS__LAZY", "PREFLIGHT_SERVICES"]
    ),
    st.text(max_size=40).filter(lambda value: "\x00" not in value),
    max_size=4,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, environ=environments)
def test_any_config_file_and_environment_loads_or_is_one_line(document, environ):
    EXAMPLES["config"] = EXAMPLES.get("config", 0) + 1
    folder = Path(tempfile.mkdtemp(prefix="preflight-cfg-"))
    try:
        (folder / "preflight.toml").write_text(document, encoding="utf-8", errors="surrogatepass")
        try:
            load_config({}, environ, folder)
        except ConfigError as error:
            problem = str(error)
        else:
            problem = None
        assert problem is None or (problem.strip() and len(problem.splitlines()) == 1)
    finally:
        shutil.rmtree(folder)


def test_config_example_count(record_figure):
    record_figure(
        "bad input: generated config files + environments", EXAMPLES["config"], "examples"
    )


@pytest.mark.parametrize(
    ("document", "environ"),
    [
        ("budget = [1, 2]\n", {}),
        ("[database]\nconnect_timeout = -5\n", {}),
        ("app = 'x'\n[[services]]\nname = 'a'\nurl = 'ftp://x'\n", {}),
        ("\x00\x01 binary garbage", {}),
        ("", {"PREFLIGHT_BUDGET": "soon"}),
        ("", {"PREFLIGHT_SERVICES": "[{"}),
        ("", {"PREFLIGHT_DATABASE__URL": "postgresql://u:hunter2@/db", "PREFLIGHT_BUGDET": "1"}),
    ],
)
def test_the_cli_says_one_line_and_exits_2(tmp_path, document, environ):
    (tmp_path / "preflight.toml").write_text(document, encoding="utf-8")
    done = run_preflight("check", cwd=tmp_path, env=child_env(**environ))
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr
