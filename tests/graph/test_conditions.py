"""Version and platform tests decided for the running interpreter, as the scanner uses them."""

from __future__ import annotations

import ast
import os
import sys

import pytest
from trees import cpython_import, errors, tool_walk, write_tree

from preflight.graph.conditions import Environment
from preflight.graph.model import ImportAction
from preflight.graph.scanner import scan

ON_WINDOWS = sys.platform == "win32"
V = sys.version_info


def env() -> Environment:
    environment = Environment()
    environment.note_import("sys", "sys")
    environment.note_import("os", "os")
    return environment


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (f"sys.version_info >= ({V.major}, {V.minor})", True),
        (f"sys.version_info < ({V.major}, {V.minor})", False),
        (f"sys.version_info[:2] == ({V.major}, {V.minor})", True),
        (f"sys.version_info[0] == {V.major}", True),
        (f"sys.version_info >= ({V.major}, {V.minor + 1})", False),
        ("sys.hexversion < 0x03000000", False),
        ("sys.platform == 'win32'", ON_WINDOWS),
        ("sys.platform != 'win32'", not ON_WINDOWS),
        ("sys.platform.startswith('win')", ON_WINDOWS),
        ("sys.platform in ('linux', 'darwin')", sys.platform in ("linux", "darwin")),
        ("os.name == 'nt'", os.name == "nt"),
        (f"sys.implementation.name == {sys.implementation.name!r}", True),
        ("not sys.platform.startswith('win')", not ON_WINDOWS),
        ("sys.platform.startswith('win') and unknown_flag", False if not ON_WINDOWS else None),
        ("sys.platform.startswith('win') or unknown_flag", True if ON_WINDOWS else None),
        ("unknown_flag", None),
        ("settings.DEBUG", None),
        ("sys.version_info >= 'x'", None),
        ("sys.argv[1] == 'x'", None),
    ],
)
def test_truth_of_a_test(test: str, expected: bool | None) -> None:
    assert env().truth(ast.parse(test, mode="eval").body) is expected


def test_module_constants_and_from_sys_imports_are_followed() -> None:
    environment = Environment()
    environment.note_from_import("sys", "version_info", "vi")
    environment.note_import("sys", "_sys")
    environment.note_assignment(
        "WIN", ast.parse("_sys.platform.startswith('win')", mode="eval").body
    )
    assert environment.truth(ast.parse("vi >= (3, 0)", mode="eval").body) is True
    assert environment.truth(ast.parse("WIN", mode="eval").body) is ON_WINDOWS
    environment.note_assignment("WIN", ast.parse("compute()", mode="eval").body)
    assert environment.truth(ast.parse("WIN", mode="eval").body) is None


def imported(source: str) -> set[str]:
    return {a.module for a in scan(source).actions if isinstance(a, ImportAction)}


def test_the_scanner_keeps_only_the_branch_this_interpreter_takes() -> None:
    source = f"""
import sys
if sys.version_info < ({V.major}, {V.minor}):
    from exceptiongroup import ExceptionGroup
else:
    from builtins import ExceptionGroup
WIN = sys.platform.startswith("win")
if WIN:
    import msvcrt
if unknown:
    import maybe
"""
    assert imported(source) == {"sys", "builtins", "maybe"} | ({"msvcrt"} if ON_WINDOWS else set())
    bound = scan(source).bound_names
    assert "ExceptionGroup" in bound


def test_a_name_bound_only_in_the_branch_not_taken_is_not_bound() -> None:
    source = f"import sys\nif sys.version_info < ({V.major}, {V.minor}):\n    legacy = 1\n"
    assert "legacy" not in scan(source).bound_names


def test_a_flag_imported_from_another_module_decides_its_branch(tmp_path) -> None:
    """Django's `if PY314: import annotationlib` with PY314 from django.utils.version."""
    major, minor = V.major, V.minor
    tree = {
        "app/__init__.py": "",
        "app/version.py": (
            "import sys\n"
            f"NEWER = sys.version_info >= ({major}, {minor + 1})\n"
            f"CURRENT = sys.version_info >= ({major}, {minor})\n"
        ),
        "app/main.py": (
            "from app.version import NEWER, CURRENT\n"
            "if NEWER:\n    import module_of_a_future_python\n"
            "if not CURRENT:\n    import module_of_an_old_python\n"
            "if CURRENT:\n    import really_missing_module\n"
        ),
    }
    root = write_tree(tmp_path, tree)
    cpython = cpython_import("app.main", [root], tmp_path)
    assert cpython.module == "really_missing_module"
    result, _, _ = tool_walk(tmp_path, "app.main", [root])
    assert [f.module for f in errors(result)] == ["really_missing_module"]
