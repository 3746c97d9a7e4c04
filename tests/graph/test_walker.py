"""The walk's details on small trees, in-process: codes, severities, where, chains, settings.

The verdicts themselves are compared with CPython's in test_verdicts.py; here each finding's
fields are checked (code, severity, file relative to its root, line, chain from the entry with
boot-time calls as `module.func()` hops, hint), then the settings (`imports.lazy`,
`imports.ignore`, `distributions.requirements`), the parse cache and `preflight graph`.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from trees import describe, errors, findings, lines, tool_walk, write_tree

from preflight import __version__
from preflight.cli import main
from preflight.codes import Severity
from preflight.graph.cache import HEADER, MODEL_VERSION, ScanCache, cache_file
from preflight.graph.model import ModuleScan

if TYPE_CHECKING:
    from pathlib import Path

    from preflight.graph.walker import WalkResult
    from preflight.report import Finding

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MISSING = "nosuchmod_preflight"
CACHE_ON: dict[str, str] = {}


def walk(tmp_path: Path, files: dict[str, str | bytes], entry: str = "main", **env: str):
    root = write_tree(tmp_path, files)
    environ = {"PREFLIGHT_IMPORTS__CACHE": "false", **env}
    result, _, _ = tool_walk(tmp_path, entry, [root], environ=environ)
    return result


def only(result: WalkResult, code: str | None = None) -> Finding:
    matches = findings(result, code)
    assert len(matches) == 1, describe(result)
    return matches[0]


# --- each code: where, how reached, how bad ---------------------------------------------------


def test_pf301_missing_module(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "import json\nimport app.api\n",
            "app/__init__.py": "",
            "app/api.py": "import os\n\nimport shared.cors_config\n",
            "shared/__init__.py": "",
        },
    )
    finding = only(result)
    assert finding.code == "PF301"
    assert finding.check == "imports"
    assert finding.severity is ERROR
    assert finding.module == "shared.cors_config"
    assert finding.name is None
    assert finding.file == "app/api.py"
    assert finding.line == 3
    assert finding.chain == ("main", "app.api")
    assert "No module named 'shared.cors_config'" in finding.message


def test_pf301_in_package_init(tmp_path) -> None:
    result = walk(
        tmp_path, {"main.py": "import pkg\n", "pkg/__init__.py": f"x = 1\n\nimport {MISSING}\n"}
    )
    finding = only(result)
    assert (finding.code, finding.file, finding.line) == ("PF301", "pkg/__init__.py", 3)
    assert finding.chain == ("main", "pkg")


def test_pf302_missing_name_with_hint(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "from middleware.ws import websocket_auth_middleware\n",
            "middleware/__init__.py": "",
            "middleware/ws.py": "class WebSocketAuthMiddleware:\n    pass\n",
        },
    )
    finding = only(result)
    assert finding.code == "PF302"
    assert finding.severity is ERROR
    assert (finding.module, finding.name) == ("middleware.ws", "websocket_auth_middleware")
    assert (finding.file, finding.line, finding.chain) == ("main.py", 1, ("main",))
    assert finding.hint is not None
    assert "did you mean 'WebSocketAuthMiddleware'?" in finding.hint


def test_pf302_no_hint_when_nothing_is_close(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": "from m import zzz\n", "m.py": "WebSocket = 1\n"})
    finding = only(result, "PF302")
    assert finding.hint is None or "did you mean" not in finding.hint


def test_pf303_syntax_error_file_and_line(tmp_path) -> None:
    result = walk(
        tmp_path,
        {"main.py": "import a\n", "a.py": "import broken\n", "broken.py": "x = 1\n\ndef f(:\n"},
    )
    finding = only(result)
    assert finding.code == "PF303"
    assert finding.severity is ERROR
    assert finding.module == "broken"
    assert finding.file == "broken.py"
    assert finding.line == 3
    assert finding.chain[:2] == ("main", "a")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'x = "\xff\xfe"\n', id="invalid-utf8"),
        pytest.param(b"x = 1\x00\n", id="nul-byte"),
        pytest.param(b"# -*- coding: ascii -*-\nx = '\xc3\xa9'\n", id="against-coding-cookie"),
    ],
)
def test_pf303_undecodable_file(tmp_path, content: bytes) -> None:
    result = walk(tmp_path, {"main.py": "import bad\n", "bad.py": content})
    finding = only(result)
    assert (finding.code, finding.severity, finding.module) == ("PF303", ERROR, "bad")
    assert finding.file == "bad.py"


def test_pf303_unreachable_file_is_not_read(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": "import ok\n", "ok.py": "", "broken.py": "def f(:\n"})
    assert result.findings == []
    assert set(result.modules) == {"main", "ok"}


def test_pf304_declared_but_not_installed(tmp_path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nNoSuchDist-Preflight>=1.0  # the client\n-r other.txt\n")
    root = write_tree(tmp_path, {"main.py": "import json\nimport nosuchdist_preflight.client\n"})
    cli = {"distributions": {"requirements": [str(requirements)]}}
    result, _, _ = tool_walk(tmp_path, "main", [root], cli=cli)
    finding = only(result)
    assert finding.code == "PF304"
    assert finding.severity is ERROR
    assert finding.module == "nosuchdist_preflight"
    assert (finding.file, finding.line) == ("main.py", 2)
    assert finding.hint is not None
    assert "pip install" in finding.hint
    assert "nosuchdist" in finding.hint.lower()


def test_pf301_not_pf304_when_undeclared(tmp_path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("something-else==1.0\n")
    root = write_tree(tmp_path, {"main.py": "import nosuchdist_preflight\n"})
    cli = {"distributions": {"requirements": [str(requirements)]}}
    result, _, _ = tool_walk(tmp_path, "main", [root], cli=cli)
    assert only(result).code == "PF301"


def test_pf305_cycle_is_info(tmp_path) -> None:
    result = walk(tmp_path, {"a.py": "import b\n", "b.py": "X = 1\nimport a\n"}, entry="a")
    finding = only(result)
    assert finding.code == "PF305"
    assert finding.severity is INFO
    assert finding.module == "a"
    assert finding.message == "import cycle: a -> b -> a"
    assert finding.line == 1


def test_no_pf305_without_cycle(tmp_path) -> None:
    result = walk(
        tmp_path, {"a.py": "import b\nimport c\n", "b.py": "import c\n", "c.py": ""}, entry="a"
    )
    assert result.findings == []


def test_pf306_relative_beyond_top_level(tmp_path) -> None:
    result = walk(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/mod.py": "x = 1\nfrom ... import y\n"},
        entry="pkg.mod",
    )
    finding = only(result)
    assert (finding.code, finding.severity) == ("PF306", ERROR)
    assert (finding.file, finding.line) == ("pkg/mod.py", 2)


def test_pf306_relative_import_in_top_level_module(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": "from . import x\n"})
    assert only(result).code == "PF306"


def test_pf307_entry_missing(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": ""}, entry="nosuch_entry")
    finding = only(result)
    assert (finding.code, finding.severity, finding.module) == ("PF307", ERROR, "nosuch_entry")


def test_pf307_entry_installed_not_under_roots(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": ""}, entry="json")
    finding = only(result)
    assert finding.code == "PF307"
    assert "not under the roots" in finding.message


def test_all_incident_failures_in_one_pass(tmp_path) -> None:
    """The four failures the incident found one deploy at a time, found in one walk."""
    result = walk(
        tmp_path,
        {
            "main.py": "from app.factory import create_app\n\napp = create_app()\n",
            "app/__init__.py": "",
            "app/factory.py": lines(
                "from app import routes",
                "import shared.cors_config",
                "from app.middleware.ws import websocket_auth_middleware",
                "",
                "def create_app():",
                "    routes.register()",
            ),
            "app/routes.py": "def register():\n    import auth_service\n",
            "app/middleware/__init__.py": "",
            "app/middleware/ws.py": lines(
                "from app.middleware import auth",
                "class WebSocketAuthMiddleware:",
                "    pass",
            ),
            "app/middleware/auth.py": "import app.monitoring.metrics\n",
            "shared/__init__.py": "",
        },
    )
    got = {(f.code, f.module, f.name) for f in errors(result)}
    assert got == {
        ("PF301", "shared.cors_config", None),
        ("PF302", "app.middleware.ws", "websocket_auth_middleware"),
        ("PF301", "auth_service", None),
        ("PF301", "app.monitoring", None),
    }, describe(result)
    by_module = {f.module: f for f in errors(result)}
    assert by_module["auth_service"].chain == (
        "main",
        "app.factory.create_app()",
        "app.routes.register()",
    )
    assert by_module["app.monitoring"].chain == (
        "main",
        "app.factory",
        "app.middleware.ws",
        "app.middleware.auth",
    )


# --- chains -----------------------------------------------------------------------------------


def test_chain_through_boot_calls(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "from factory import create_app\n\napp = create_app()\n",
            "factory.py": lines(
                "from routes import register_routes",
                "",
                "",
                "def create_app():",
                "    register_routes()",
            ),
            "routes.py": "def register_routes():\n    import ws_manager\n",
        },
    )
    finding = only(result)
    assert (finding.code, finding.severity, finding.module) == ("PF301", ERROR, "ws_manager")
    assert (finding.file, finding.line) == ("routes.py", 2)
    assert finding.chain == ("main", "factory.create_app()", "routes.register_routes()")


def test_chain_through_decorator_and_init(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "from reg import register\n@register\ndef handler():\n    pass\n",
            "reg.py": "from svc import Service\ndef register(f):\n    Service()\n    return f\n",
            "svc.py": f"class Service:\n    def __init__(self):\n        import {MISSING}\n",
        },
    )
    finding = only(result)
    assert finding.chain == ("main", "reg.register()", "svc.Service.__init__()")
    assert (finding.file, finding.line) == ("svc.py", 3)


def test_call_resolves_in_its_own_scope(tmp_path) -> None:
    """A function's own import of a name wins over the module's function of that name."""
    source = lines(
        "def helper():",
        "    import gone_at_module_level",
        "def f():",
        "    from other import helper",
        "    helper()",
        "helper()",
        "f()",
    )
    files = {"main.py": source, "other.py": f"def helper():\n    import {MISSING}\n"}
    result = walk(tmp_path, files)
    assert {(f.module, f.chain) for f in errors(result)} == {
        ("gone_at_module_level", ("main", "main.helper()")),
        (MISSING, ("main", "main.f()", "other.helper()")),
    }


def test_chain_is_shortest(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "import b\nimport a\n",
            "b.py": "import d\n",
            "d.py": "import c\n",
            "a.py": "import c\n",
            "c.py": f"import {MISSING}\n",
        },
    )
    assert only(result).chain == ("main", "a", "c")
    assert result.chains["c"] == ("main", "a", "c")
    assert result.chains["d"] == ("main", "b", "d")


def test_same_missing_module_from_two_importers(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "import a\nimport b\n",
            "a.py": f"import {MISSING}\n",
            "b.py": f"x = 1\nimport {MISSING}\n",
        },
    )
    assert sorted((f.file, f.line) for f in errors(result)) == [("a.py", 1), ("b.py", 2)]


def test_same_relative_import_in_two_packages(tmp_path) -> None:
    """`from .util import VALUE` names a different module in each package."""
    result = walk(
        tmp_path,
        {
            "main.py": "import a\nimport b\n",
            "a/__init__.py": "from .util import VALUE\n",
            "a/util.py": "VALUE = 1\n",
            "b/__init__.py": "from .util import VALUE\n",
        },
    )
    finding = only(result)
    assert (finding.code, finding.severity) == ("PF301", ERROR)
    assert (finding.file, finding.module) == ("b/__init__.py", "b.util")
    assert ("a", "a.util") in {(e.importer, e.target) for e in result.edges}


def test_module_reached_twice_is_walked_once(tmp_path) -> None:
    files = {
        "main.py": "import a\nimport b\n",
        "a.py": "import c\n",
        "b.py": "import c\n",
        "c.py": "import json\n",
    }
    result = walk(tmp_path, files)
    assert [(e.importer, e.target) for e in result.edges] == [
        ("main", "a"),
        ("main", "b"),
        ("a", "c"),
        ("b", "c"),
        ("c", "json"),
    ]


def test_file_relative_to_its_own_root(tmp_path) -> None:
    root = write_tree(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/main.py": "import lib.util\n",
            "vendor/lib/__init__.py": "",
            "vendor/lib/util.py": f"import {MISSING}\n",
        },
    )
    roots = [root / "src", root / "vendor"]
    result, _, _ = tool_walk(tmp_path, "app.main", roots)
    finding = only(result)
    assert finding.file == "lib/util.py"
    assert finding.chain == ("app.main", "lib.util")


# --- guards, fallbacks and lazy imports ----------------------------------------------------------


def test_guarded_failure_deep_down_is_info(tmp_path) -> None:
    result = walk(
        tmp_path,
        {
            "main.py": "try:\n    import a\nexcept ImportError:\n    a = None\n",
            "a.py": "import b\n",
            "b.py": f"import {MISSING}\n",
        },
    )
    finding = only(result)
    assert (finding.code, finding.severity, finding.file) == ("PF301", INFO, "b.py")
    assert finding.chain == ("main", "a", "b")
    assert finding.hint is not None
    assert "try/except" in finding.hint


def test_module_reached_guarded_then_unguarded_is_error(tmp_path) -> None:
    """A later path that no guard covers reports what the first, guarded one caught."""
    result = walk(
        tmp_path,
        {
            "main.py": "try:\n    import a\nexcept ImportError:\n    a = None\nimport b\n",
            "b.py": "import a\n",
            "a.py": f"import {MISSING}\n",
        },
    )
    finding = only(result)
    assert (finding.severity, finding.file, finding.line) == (ERROR, "a.py", 1)
    assert finding.chain == ("main", "b", "a")
    assert result.chains["a"] == ("main", "a")


def test_failing_fallback_is_error_and_guarded_is_info(tmp_path) -> None:
    source = lines(
        "try:", f"    import {MISSING}", "except ImportError:", "    import fallback_gone"
    )
    result = walk(tmp_path, {"main.py": source})
    assert [(f.module, f.line) for f in errors(result)] == [("fallback_gone", 4)]
    assert [(f.module, f.line) for f in findings(result, severity=INFO)] == [(MISSING, 2)]


def test_fallback_not_run_is_info(tmp_path) -> None:
    source = lines("try:", "    import json", "except ImportError:", "    import fallback_gone")
    result = walk(tmp_path, {"main.py": source})
    finding = only(result)
    assert (finding.module, finding.severity) == ("fallback_gone", INFO)


def test_type_checking_never_reported(tmp_path) -> None:
    source = lines("from typing import TYPE_CHECKING", "if TYPE_CHECKING:", f"    import {MISSING}")
    result = walk(tmp_path, {"main.py": source})
    assert result.findings == []


def test_lazy_import_is_warning_by_default(tmp_path) -> None:
    result = walk(tmp_path, {"main.py": f"def f():\n    import {MISSING}\n"})
    finding = only(result)
    assert (finding.code, finding.severity, finding.module) == ("PF301", WARNING, MISSING)
    assert (finding.file, finding.line) == ("main.py", 2)
    assert finding.chain[0] == "main"
    assert finding.chain[-1] == "main.f()"


def test_lazy_error(tmp_path) -> None:
    result = walk(
        tmp_path, {"main.py": f"def f():\n    import {MISSING}\n"}, PREFLIGHT_IMPORTS__LAZY="error"
    )
    assert only(result).severity is ERROR


def test_lazy_ignore(tmp_path) -> None:
    files = {"main.py": f"def f():\n    import {MISSING}\nimport gone_at_boot\n"}
    result = walk(tmp_path, files, PREFLIGHT_IMPORTS__LAZY="ignore")
    assert [f.module for f in result.findings] == ["gone_at_boot"]


def test_lazy_setting_does_not_touch_boot_imports(tmp_path) -> None:
    files = {"main.py": f"def f():\n    import {MISSING}\nf()\n"}
    result = walk(tmp_path, files, PREFLIGHT_IMPORTS__LAZY="ignore")
    assert only(result).severity is ERROR


def test_lazy_import_in_uncalled_method_of_reached_module(tmp_path) -> None:
    files = {
        "main.py": "import svc\n",
        "svc.py": f"class S:\n    def run(self):\n        import {MISSING}\n",
    }
    result = walk(tmp_path, files)
    finding = only(result)
    assert (finding.severity, finding.file, finding.line) == (WARNING, "svc.py", 3)


def test_ignore_silences_missing_module(tmp_path) -> None:
    files = {"main.py": f"import {MISSING}.sub\nimport other_gone\n"}
    result = walk(tmp_path, files, PREFLIGHT_IMPORTS__IGNORE=MISSING)
    assert [f.module for f in result.findings] == ["other_gone"]


def test_ignore_silences_first_party_module(tmp_path) -> None:
    files = {
        "main.py": "import legacy.old\nimport fresh\n",
        "legacy/__init__.py": "",
        "legacy/old.py": f"import {MISSING}\n",
        "fresh.py": "import gone_too\n",
    }
    result = walk(tmp_path, files, PREFLIGHT_IMPORTS__IGNORE="legacy")
    assert [f.module for f in result.findings] == ["gone_too"]


def test_ignore_is_not_a_prefix_match_on_names(tmp_path) -> None:
    files = {"main.py": f"import {MISSING}_two\n"}
    result = walk(tmp_path, files, PREFLIGHT_IMPORTS__IGNORE=MISSING)
    assert [f.module for f in errors(result)] == [f"{MISSING}_two"]


# --- the parse cache ------------------------------------------------------------------------------

CACHED_TREE = {
    "main.py": "import a\nimport pkg.b\n",
    "a.py": "x = 1\n",
    "pkg/__init__.py": "",
    "pkg/b.py": f"import {MISSING}\n",
    "unreached.py": "import nothing_here\n",
}


def test_cache_second_walk_parses_nothing(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    first, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert (parsed, cached) == (4, 0)
    assert cache_file(root).is_file()
    assert cache_file(root).parent == root / "__pycache__"
    second, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert (parsed, cached) == (0, 4)
    assert second.findings == first.findings


def test_cache_load_leaves_the_garbage_collector_as_it_was(tmp_path) -> None:
    """The walk turns the collector off for speed; loading the cache must not turn it back on."""
    root = write_tree(tmp_path, CACHED_TREE)
    tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert cache_file(root).is_file()
    gc.disable()
    try:
        assert ScanCache.load(root).entries
        assert not gc.isenabled()
    finally:
        gc.enable()
    ScanCache.load(root)
    assert gc.isenabled()


def test_cache_off_parses_every_file(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    for _ in range(2):
        result, parsed, cached = tool_walk(tmp_path, "main", [root])
        assert (parsed, cached) == (4, 0)
        assert [f.module for f in result.findings] == [MISSING]
    assert not cache_file(root).exists()


def test_cache_touching_a_file_reparses_only_it(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    (root / "a.py").write_text("import gone_now\n")
    result, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert (parsed, cached) == (1, 3)
    assert {f.module for f in errors(result)} == {MISSING, "gone_now"}


def test_cache_same_size_new_mtime_reparses(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    path = root / "a.py"
    path.write_text("y = 2\n")  # as long as "x = 1\n"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    _, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert (parsed, cached) == (1, 3)


def test_cache_same_size_same_content_but_renamed_import_is_seen(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    path = root / "pkg" / "b.py"
    source = path.read_text()
    path.write_text(source.replace("nosuchmod", "nosuchpkg"))  # same size, new mtime
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    result, _, _ = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert [f.module for f in errors(result)] == [MISSING.replace("nosuchmod", "nosuchpkg")]


def test_cache_read_only_root_does_not_fail(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    # The cache's folder cannot be created (a file is in the way: this holds even for root,
    # whom permission bits do not stop), and the root itself is read-only.
    (root / "__pycache__").write_text("not a folder")
    root.chmod(0o555)
    try:
        for _ in range(2):
            result, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
            assert (parsed, cached) == (4, 0)
            assert [f.module for f in errors(result)] == [MISSING]
    finally:
        root.chmod(0o755)
    assert (root / "__pycache__").read_text() == "not a folder"


def test_cache_corrupt_file_is_ignored(tmp_path) -> None:
    root = write_tree(tmp_path, CACHED_TREE)
    cache_file(root).parent.mkdir()
    cache_file(root).write_bytes(b"\x80\x05 not a pickle")
    result, parsed, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert (parsed, cached) == (4, 0)
    assert [f.module for f in errors(result)] == [MISSING]


@pytest.mark.parametrize(
    ("python", "trusted"),
    [
        pytest.param(sys.version, True, id="this-python"),
        pytest.param("3.10.0 (other build)", False, id="other-python"),
    ],
)
def test_cache_not_trusted_across_python_versions(tmp_path, python: str, trusted: bool) -> None:
    """A cache entry claiming pkg/b.py imports nothing: believed only from this very Python."""
    root = write_tree(tmp_path, CACHED_TREE)
    lying = root / "pkg" / "b.py"
    stat = lying.stat()
    header = (*HEADER[:3], python, *HEADER[4:])
    assert HEADER[:4] == ("preflight-scan-cache", MODEL_VERSION, __version__, sys.version)
    entries = {str(lying): (stat.st_size, stat.st_mtime_ns, ModuleScan())}
    cache_file(root).parent.mkdir()
    cache_file(root).write_bytes(pickle.dumps((header, entries)))
    result, _, cached = tool_walk(tmp_path, "main", [root], environ=CACHE_ON)
    assert cached == (1 if trusted else 0)
    assert bool(errors(result)) is not trusted


# --- preflight graph ------------------------------------------------------------------------------

GRAPH_TREE = {
    "main.py": "import json\nimport a\nfrom pkg import b\n",
    "a.py": "import pkg.b\n",
    "pkg/__init__.py": "",
    "pkg/b.py": "x = 1\n",
}


def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    root = write_tree(tmp_path, GRAPH_TREE)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["graph", "--app", "main", "--root", str(root), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_graph_text(tmp_path, monkeypatch) -> None:
    out = graph(tmp_path, monkeypatch)
    assert out.splitlines() == [
        "main",
        "  -> a  :2",
        "  -> pkg  :3",
        "  -> pkg.b  :3",
        "a",
        "  -> pkg  :1",
        "  -> pkg.b  :1",
        "pkg",
        "pkg.b",
    ]


def test_graph_json(tmp_path, monkeypatch) -> None:
    document = json.loads(graph(tmp_path, monkeypatch, "--format", "json"))
    modules = {m["name"]: m for m in document["modules"]}
    assert set(modules) == {"main", "a", "pkg", "pkg.b"}
    assert modules["pkg.b"]["file"] == "pkg/b.py"
    assert modules["a"]["chain"] == ["main", "a"]
    edges = {(e["importer"], e["target"], e["line"]) for e in document["edges"]}
    assert ("main", "a", 2) in edges
    assert ("a", "pkg.b", 1) in edges
    assert not any(e["target"] == "json" for e in document["edges"])


def test_graph_dot(tmp_path, monkeypatch) -> None:
    out = graph(tmp_path, monkeypatch, "--format", "dot")
    assert out.startswith("digraph")
    assert '"main" -> "a"' in out
    assert out.rstrip().endswith("}")


def test_graph_why(tmp_path, monkeypatch) -> None:
    out = graph(tmp_path, monkeypatch, "--why", "a")
    assert out == "main -> a\n"


def test_graph_why_shortest_through_each_importer(tmp_path, monkeypatch) -> None:
    out = graph(tmp_path, monkeypatch, "--why", "pkg.b")
    assert out.splitlines() == ["main -> pkg.b", "main -> a -> pkg.b"]


def test_graph_why_unreached(tmp_path, monkeypatch) -> None:
    out = graph(tmp_path, monkeypatch, "--why", "elsewhere")
    assert "not imported at boot" in out
