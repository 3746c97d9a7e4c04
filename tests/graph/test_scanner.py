"""The scanner, on source strings: every import form, context, call, binding and bad input."""

from __future__ import annotations

import ast
import builtins
import pickle
import sys
import sysconfig
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from preflight.graph.model import (
    ALL_FAILURES,
    Binding,
    Block,
    CallAction,
    ImportAction,
    ModuleScan,
)
from preflight.graph.scanner import scan


def lines(*rows: str) -> str:
    """A source whose line N is `rows[N - 1]`."""
    return "\n".join(rows) + "\n"


def imp(module, line, names=(), *, level=0, blocks=(), tc=False, dynamic=False):
    return ImportAction(module, level, names, line, blocks, tc, dynamic)


def call(*target, line, blocks=()):
    return CallAction(target, line, blocks)


IMPORT = frozenset({"module_not_found", "import_error"})
NOT_FOUND = frozenset({"module_not_found"})
SYNTAX = frozenset({"syntax_error"})
RECURSION = frozenset({"recursion_error"})
ATTRIBUTE = frozenset({"attribute_error"})
NOTHING = frozenset()


def body(line, catches=IMPORT):
    return Block(line, "body", catches)


def handler(line, catches=IMPORT):
    return Block(line, "handler", catches)


def imports(actions):
    return [action for action in actions if isinstance(action, ImportAction)]


def calls(actions):
    return [action for action in actions if isinstance(action, CallAction)]


def all_actions(result: ModuleScan):
    """Module actions, then every function's, in one list."""
    return [*result.actions, *(a for function in result.functions for a in function.actions)]


def functions(result: ModuleScan):
    return {function.qualname: function for function in result.functions}


# --- import forms -----------------------------------------------------------------------------

IMPORT_FORMS = [
    pytest.param("import a.b", [imp("a.b", 1)], id="import-dotted"),
    pytest.param("import a.b as c", [imp("a.b", 1)], id="import-as"),
    pytest.param("import a, b.c", [imp("a", 1), imp("b.c", 1)], id="import-two"),
    pytest.param("from a import b, c", [imp("a", 1, ("b", "c"))], id="from-import"),
    pytest.param("from a import (\n    b,\n    c as d,\n)", [imp("a", 1, ("b", "c"))], id="parens"),
    pytest.param("from . import x", [imp("", 1, ("x",), level=1)], id="from-dot"),
    pytest.param("from ..pkg import y", [imp("pkg", 1, ("y",), level=2)], id="from-dotdot-pkg"),
    pytest.param("from a import *", [imp("a", 1, ("*",))], id="star"),
    pytest.param(
        lines("import importlib", 'importlib.import_module("x.y")'),
        [imp("importlib", 1), imp("x.y", 2, dynamic=True)],
        id="import-module",
    ),
    pytest.param(
        'importlib.import_module(name="x")', [imp("x", 1, dynamic=True)], id="import-module-kw"
    ),
    pytest.param(
        'importlib.import_module(".x", package="pkg")',
        [imp("pkg.x", 1, dynamic=True)],
        id="relative-literal-package-resolved",
    ),
    pytest.param(
        'importlib.import_module("..x", "a.b")',
        [imp("a.x", 1, dynamic=True)],
        id="relative-literal-package-two-dots",
    ),
    pytest.param(
        'importlib.import_module(".", package="pkg")',
        [imp("pkg", 1, dynamic=True)],
        id="relative-literal-package-itself",
    ),
    pytest.param(
        'importlib.import_module("...x", package="a.b")', [], id="beyond-top-level-package"
    ),
    pytest.param(
        'importlib.import_module(".x", package=__package__)',
        [imp("x", 1, level=1, dynamic=True)],
        id="relative-dunder-package",
    ),
    pytest.param(
        'importlib.import_module(".x", __name__)',
        [imp("x", 1, level=1, dynamic=True)],
        id="relative-dunder-name-positional",
    ),
    pytest.param(
        'importlib.import_module("..x", package=__package__)',
        [imp("x", 1, level=2, dynamic=True)],
        id="relative-two-dots-dunder-package",
    ),
    pytest.param('importlib.import_module(".x")', [], id="relative-without-package"),
    pytest.param('importlib.import_module(".x", package=p)', [], id="relative-variable-package"),
    pytest.param("importlib.import_module(name)", [], id="non-literal"),
    pytest.param('importlib.import_module(f"x.{n}")', [], id="f-string"),
    pytest.param('importlib.import_module("x" + n)', [], id="concatenation"),
    pytest.param("importlib.import_module(*args)", [], id="unpacked"),
    pytest.param('importlib.import_module("")', [], id="empty-name"),
    pytest.param(
        lines("from importlib import import_module", 'import_module("x")'),
        [imp("importlib", 1, ("import_module",)), imp("x", 2, dynamic=True)],
        id="from-importlib-import-module",
    ),
    pytest.param(
        lines("from importlib import import_module as load", 'load("x")'),
        [imp("importlib", 1, ("import_module",)), imp("x", 2, dynamic=True)],
        id="import-module-aliased",
    ),
    pytest.param(
        lines("import importlib as il", 'il.import_module("x")'),
        [imp("importlib", 1), imp("x", 2, dynamic=True)],
        id="importlib-aliased",
    ),
    pytest.param('import_module("x")', [], id="unknown-import-module-name"),
    pytest.param('__import__("x")', [imp("x", 1, dynamic=True)], id="dunder-import"),
    pytest.param(
        '__import__("a.b", globals(), locals(), ["c"], 0)',
        [imp("a.b", 1, dynamic=True)],
        id="dunder-import-fromlist",
    ),
    pytest.param(
        '__import__("x", level=1)', [imp("x", 1, level=1, dynamic=True)], id="dunder-import-level"
    ),
    pytest.param('__import__("x", level=n)', [], id="dunder-import-variable-level"),
    pytest.param("__import__(name)", [], id="dunder-import-non-literal"),
]


@pytest.mark.parametrize(("source", "expected"), IMPORT_FORMS)
def test_import_forms(source, expected):
    assert imports(scan(source).actions) == expected


def test_a_recognised_dynamic_import_is_not_also_a_call():
    result = scan(lines("import importlib", 'importlib.import_module("x")'))
    assert calls(result.actions) == []


def test_an_unrecognised_dynamic_import_is_an_ordinary_call():
    result = scan("importlib.import_module(name)")
    assert result.actions == (call("importlib", "import_module", line=1),)


# --- contexts -----------------------------------------------------------------------------------

TYPE_CHECKING_TESTS = [
    pytest.param("TYPE_CHECKING", id="name"),
    pytest.param("typing.TYPE_CHECKING", id="typing-attribute"),
    pytest.param("t.TYPE_CHECKING", id="aliased-typing"),
]


@pytest.mark.parametrize("test", TYPE_CHECKING_TESTS)
def test_type_checking_marks_the_body_and_not_the_else_branch(test):
    source = lines(
        "import typing",
        "import typing as t",
        "from typing import TYPE_CHECKING",
        f"if {test}:",
        "    from a import A",
        "else:",
        "    from b import B",
    )
    assert imports(scan(source).actions)[3:] == [
        imp("a", 5, ("A",), tc=True),
        imp("b", 7, ("B",)),
    ]


def test_not_type_checking_marks_the_else_branch():
    source = lines("if not TYPE_CHECKING:", "    import a", "else:", "    import b")
    assert scan(source).actions == (imp("a", 2), imp("b", 4, tc=True))


def test_an_elif_after_type_checking_is_ordinary():
    source = lines("if TYPE_CHECKING:", "    import a", "elif x:", "    import b")
    assert scan(source).actions == (imp("a", 2, tc=True), imp("b", 4))


def test_under_type_checking_calls_defs_and_bindings_do_not_exist():
    source = lines(
        "if TYPE_CHECKING:",
        "    from a import f",
        "    f()",
        "    def g():",
        "        import lazy",
        "    class C: ...",
        "    h = lambda: __import__('x')",
    )
    result = scan(source)
    assert result.actions == (imp("a", 2, ("f",), tc=True),)
    assert result.functions == ()
    assert result.bindings == ()
    assert result.classes == frozenset()
    assert result.bound_names == frozenset()


def test_type_checking_inside_a_function_marks_its_imports():
    source = lines("def f():", "    if TYPE_CHECKING:", "        import a", "    import b")
    assert functions(scan(source))["f"].actions == (imp("a", 3, tc=True), imp("b", 4))


GUARDS = [
    pytest.param("except ImportError:", IMPORT, id="import-error"),
    pytest.param("except ModuleNotFoundError:", NOT_FOUND, id="module-not-found"),
    pytest.param("except SyntaxError:", SYNTAX, id="syntax-error"),
    pytest.param("except Exception:", ALL_FAILURES, id="exception"),
    pytest.param("except BaseException:", ALL_FAILURES, id="base-exception"),
    pytest.param("except:", ALL_FAILURES, id="bare"),
    pytest.param("except ImportError as error:", IMPORT, id="as-name"),
    pytest.param("except (KeyError, ImportError):", IMPORT, id="tuple"),
    pytest.param("except builtins.ImportError:", IMPORT, id="dotted"),
    pytest.param("except* ImportError:", IMPORT, id="except-star"),
    pytest.param("except (ModuleNotFoundError, Exception):", ALL_FAILURES, id="tuple-with-base"),
]


@pytest.mark.parametrize(("clause", "catches"), GUARDS)
def test_a_guarding_try_marks_body_and_handler(clause, catches):
    source = lines(
        "try:",
        "    import fast",
        "    f()",
        clause,
        "    import slow",
        "else:",
        "    import after",
        "finally:",
        "    import cleanup",
    )
    assert scan(source).actions == (
        imp("fast", 2, blocks=(body(1, catches),)),
        call("f", line=3, blocks=(body(1, catches),)),
        imp("slow", 5, blocks=(handler(1, catches),)),
        imp("after", 7),
        imp("cleanup", 9),
    )


def test_every_handler_of_a_guarding_try_is_a_fallback_and_the_try_catches_their_union():
    source = lines(
        "try:",
        "    import a",
        "except KeyError:",
        "    import b",
        "except ModuleNotFoundError:",
        "    import c",
        "except SyntaxError:",
        "    import d",
    )
    union = NOT_FOUND | SYNTAX
    assert scan(source).actions == (
        imp("a", 2, blocks=(body(1, union),)),
        imp("b", 4, blocks=(handler(1, union),)),
        imp("c", 6, blocks=(handler(1, union),)),
        imp("d", 8, blocks=(handler(1, union),)),
    )


@pytest.mark.parametrize(
    "clause",
    [
        "except KeyError:",
        "except (OSError, ValueError):",
        "except IndentationError:",
        "except LookupError:",
        "except* KeyError:",
        "except unknown.Error:",
    ],
)
def test_a_try_that_does_not_catch_import_failures_adds_no_block(clause):
    source = lines("try:", "    import a", clause, "    import b")
    assert scan(source).actions == (imp("a", 2), imp("b", 4))


def test_nested_tries_compose_outermost_first():
    source = lines(
        "try:",
        "    try:",
        "        import a",
        "    except ImportError:",
        "        import b",
        "except Exception:",
        "    try:",
        "        import c",
        "    except ModuleNotFoundError:",
        "        pass",
    )
    assert scan(source).actions == (
        imp("a", 3, blocks=(body(1, ALL_FAILURES), body(2))),
        imp("b", 5, blocks=(body(1, ALL_FAILURES), handler(2))),
        imp("c", 8, blocks=(handler(1, ALL_FAILURES), body(7, NOT_FOUND))),
    )


def test_blocks_inside_a_function_are_relative_to_its_body():
    source = lines(
        "try:",
        "    @deco",
        "    def f():",
        "        try:",
        "            import a",
        "        except ImportError:",
        "            pass",
        "        import b",
        "except ImportError:",
        "    pass",
    )
    result = scan(source)
    assert result.actions == (call("deco", line=2, blocks=(body(1),)),)
    assert functions(result)["f"].actions == (imp("a", 5, blocks=(body(4),)), imp("b", 8))


# What each failure kind stands for: the exceptions a failed import raises (a broken file may
# raise IndentationError or TabError, subclasses of SyntaxError). A handler catches a kind
# only when it catches every one of them.
FAILURES = {
    "module_not_found": (ModuleNotFoundError,),
    "import_error": (ImportError,),
    "syntax_error": (SyntaxError, IndentationError, TabError),
    "recursion_error": (RecursionError,),
    "attribute_error": (AttributeError,),
}

# (handlers of `try: fail()` inside `def run(flag=False)`, what the try catches)
CATCHES = [
    pytest.param("except ImportError:\n    pass", IMPORT, id="import-error"),
    pytest.param("except ModuleNotFoundError:\n    pass", NOT_FOUND, id="module-not-found"),
    pytest.param("except SyntaxError:\n    pass", SYNTAX, id="syntax-error"),
    pytest.param("except IndentationError:\n    pass", NOTHING, id="indentation-error-subclass"),
    pytest.param("except RecursionError:\n    pass", RECURSION, id="recursion-error"),
    pytest.param("except RuntimeError:\n    pass", RECURSION, id="runtime-error"),
    pytest.param("except AttributeError:\n    pass", ATTRIBUTE, id="attribute-error"),
    pytest.param("except Exception:\n    pass", ALL_FAILURES, id="exception"),
    pytest.param("except BaseException:\n    pass", ALL_FAILURES, id="base-exception"),
    pytest.param("except:\n    pass", ALL_FAILURES, id="bare"),
    pytest.param("except builtins.SyntaxError:\n    pass", SYNTAX, id="builtins-dotted"),
    pytest.param(
        "except (ModuleNotFoundError, SyntaxError):\n    pass", NOT_FOUND | SYNTAX, id="tuple"
    ),
    pytest.param(
        "except ModuleNotFoundError:\n    pass\nexcept AttributeError:\n    pass",
        NOT_FOUND | ATTRIBUTE,
        id="union-of-handlers",
    ),
    pytest.param("except (KeyError, LookupError, OSError):\n    pass", NOTHING, id="unrelated"),
    pytest.param("except* ImportError:\n    pass", IMPORT, id="except-star"),
    pytest.param(
        "except* (SyntaxError, AttributeError):\n    pass",
        SYNTAX | ATTRIBUTE,
        id="except-star-tuple",
    ),
    # A handler that re-raises catches nothing.
    pytest.param("except ImportError:\n    raise", NOTHING, id="bare-raise"),
    pytest.param(
        "except ImportError as error:\n    raise RuntimeError('no') from error",
        NOTHING,
        id="raise-from",
    ),
    pytest.param("except Exception:\n    raise SystemExit(1)", NOTHING, id="raise-other"),
    pytest.param("except:\n    flag = True\n    raise", NOTHING, id="raise-after-statements"),
    pytest.param("except ImportError:\n    raise\n    flag = True", NOTHING, id="raise-first"),
    pytest.param("except* ImportError:\n    raise", NOTHING, id="except-star-raise"),
    # ... but not when the raise may not run.
    pytest.param("except ImportError:\n    if flag:\n        raise", IMPORT, id="raise-under-if"),
    pytest.param(
        "except ImportError:\n    for _ in ():\n        raise", IMPORT, id="raise-under-for"
    ),
    pytest.param(
        "except ImportError:\n    try:\n        raise\n    except ImportError:\n        pass",
        IMPORT,
        id="raise-under-try",
    ),
    pytest.param("except ImportError:\n    return None\n    raise", IMPORT, id="return-first"),
    # The first handler that matches a failure decides; a later one never sees it.
    pytest.param(
        "except ImportError:\n    raise\nexcept Exception:\n    pass",
        ALL_FAILURES - IMPORT,
        id="re-raised-is-not-caught-later",
    ),
    pytest.param(
        "except ImportError:\n    raise\nexcept ModuleNotFoundError:\n    pass",
        NOTHING,
        id="shadowed-handler",
    ),
    pytest.param(
        "except ModuleNotFoundError:\n    pass\nexcept ImportError:\n    raise",
        NOT_FOUND,
        id="narrow-caught-broad-re-raised",
    ),
    pytest.param(
        "except SyntaxError:\n    raise\nexcept:\n    pass",
        ALL_FAILURES - SYNTAX,
        id="bare-after-re-raise",
    ),
]


def _in_run(clauses: str) -> str:
    """`def run(flag=False):` whose body is `try: fail()` (line 3) with these handlers."""
    handlers = ["    " + row for row in clauses.splitlines()]
    return lines("def run(flag=False):", "    try:", "        fail()", *handlers)


def _scanned_catches(source: str, function: str = "run", line: int = 3):
    """What the blocks around the call of `fail` on `line` catch, as the scanner sees them."""
    (action,) = [a for a in functions(scan(source))[function].actions if a.line == line]
    assert action.target == ("fail",)
    return frozenset().union(*(block.catches for block in action.blocks if block.role == "body"))


def _cpython_catches(source: str) -> frozenset:
    """The kinds whose every exception, raised by `fail()`, does not escape `run()`."""
    caught = set()
    for kind, exceptions in FAILURES.items():
        escapes = False
        for exception in exceptions:

            def fail(exception=exception):
                raise exception("failed")

            namespace = {"fail": fail, "builtins": builtins}
            exec(compile(source, "scanned.py", "exec"), namespace)  # noqa: S102
            try:
                namespace["run"]()
            except BaseException:  # noqa: BLE001 - the failure, or what a handler raised
                escapes = True
        if not escapes:
            caught.add(kind)
    return frozenset(caught)


@pytest.mark.parametrize(("clauses", "expected"), CATCHES)
def test_what_a_try_catches(clauses, expected):
    assert _scanned_catches(_in_run(clauses)) == expected


@pytest.mark.parametrize(("clauses", "expected"), CATCHES)
def test_what_a_try_catches_agrees_with_cpython(clauses, expected):
    assert _cpython_catches(_in_run(clauses)) == expected


def test_a_try_whose_handlers_all_re_raise_adds_no_block():
    source = lines(
        "try:",
        "    import a",
        "except ModuleNotFoundError:",
        "    import b",
        "    raise",
        "except ImportError as error:",
        "    raise RuntimeError('x') from error",
    )
    assert imports(scan(source).actions) == [imp("a", 2), imp("b", 4)]


def test_a_re_raising_handler_is_still_a_fallback_of_a_try_that_catches_something():
    source = lines(
        "try:",
        "    import a",
        "except ImportError:",
        "    import b",
        "    raise",
        "except SyntaxError:",
        "    import c",
    )
    assert scan(source).actions == (
        imp("a", 2, blocks=(body(1, SYNTAX),)),
        imp("b", 4, blocks=(handler(1, SYNTAX),)),
        imp("c", 7, blocks=(handler(1, SYNTAX),)),
    )


# (imports before the `with`, its header, what its body is guarded against)
SUPPRESS = [
    pytest.param("import contextlib", "contextlib.suppress(ImportError)", IMPORT, id="import"),
    pytest.param(
        "from contextlib import suppress",
        "suppress(ModuleNotFoundError, SyntaxError)",
        NOT_FOUND | SYNTAX,
        id="from-import-two",
    ),
    pytest.param(
        "import contextlib", "contextlib.suppress(Exception)", ALL_FAILURES, id="exception"
    ),
    pytest.param(
        "import contextlib as cl", "cl.suppress(RecursionError)", RECURSION, id="module-alias"
    ),
    pytest.param(
        "from contextlib import suppress as quiet",
        "quiet(AttributeError)",
        ATTRIBUTE,
        id="function-alias",
    ),
    pytest.param(
        "import contextlib",
        "contextlib.suppress((KeyError, ImportError))",
        IMPORT,
        id="tuple-argument",
    ),
    pytest.param(
        "import contextlib",
        "contextlib.suppress(builtins.SyntaxError)",
        SYNTAX,
        id="builtins-dotted",
    ),
    pytest.param(
        "import contextlib",
        "contextlib.nullcontext(), contextlib.suppress(ImportError) as s",
        IMPORT,
        id="second-item",
    ),
    pytest.param(
        "import contextlib",
        "contextlib.suppress(ImportError), contextlib.suppress(SyntaxError)",
        IMPORT | SYNTAX,
        id="two-suppress-items",
    ),
    pytest.param("import contextlib", "contextlib.suppress(KeyError)", NOTHING, id="unrelated"),
    pytest.param(
        "import contextlib", "contextlib.suppress(IndentationError)", NOTHING, id="subclass"
    ),
    pytest.param("import contextlib", "contextlib.suppress()", NOTHING, id="no-argument"),
    pytest.param("import contextlib", "contextlib.nullcontext()", NOTHING, id="other-manager"),
    pytest.param("import contextlib", "contextlib.suppress", NOTHING, id="not-called"),
]


@pytest.mark.parametrize(("imports_", "header", "expected"), SUPPRESS)
def test_with_suppress_guards_its_body(imports_, header, expected):
    source = lines(imports_, f"with {header}:", "    import a", "    fail()")
    blocks = (body(2, expected),) if expected else ()
    result = scan(source)
    assert result.actions[-2:] == (imp("a", 3, blocks=blocks), call("fail", line=4, blocks=blocks))


@pytest.mark.parametrize(("imports_", "header", "expected"), SUPPRESS[:-1])
def test_with_suppress_agrees_with_cpython(imports_, header, expected):
    source = lines(
        "def run(flag=False):", f"    {imports_}", f"    with {header}:", "        fail()"
    )
    assert _scanned_catches(source, line=4) == expected
    assert _cpython_catches(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("with suppress(ImportError):\n    import a", id="suppress-not-imported"),
        pytest.param(
            "from mylib import suppress\nwith suppress(ImportError):\n    import a",
            id="other-suppress",
        ),
        pytest.param(
            "import contextlib\nwith contextlib.suppress(*errors):\n    import a", id="unpacked"
        ),
        pytest.param(
            "import contextlib\nasync def f():\n    async with contextlib.suppress(ImportError):"
            "\n        import a",
            id="async-with-is-a-type-error",
        ),
    ],
)
def test_what_is_not_a_recognised_suppress_adds_no_block(source):
    assert all(not action.blocks for action in all_actions(scan(source)))


def test_a_with_item_after_a_suppress_item_is_guarded_by_it():
    source = lines(
        "from contextlib import suppress",
        "with opened(), suppress(ImportError), load() as loaded[key()]:",
        "    import a",
    )
    assert scan(source).actions[1:] == (
        call("opened", line=2),
        call("suppress", line=2),
        call("load", line=2, blocks=(body(2),)),
        call("key", line=2, blocks=(body(2),)),
        imp("a", 3, blocks=(body(2),)),
    )


def test_suppress_blocks_compose_with_tries_and_belong_to_their_function():
    source = lines(
        "import contextlib",
        "try:",
        "    with contextlib.suppress(SyntaxError):",
        "        import a",
        "except ImportError:",
        "    pass",
        "def f():",
        "    with contextlib.suppress(ImportError):",
        "        import b",
    )
    result = scan(source)
    assert result.actions[1:] == (
        call("contextlib", "suppress", line=3, blocks=(body(2),)),
        imp("a", 4, blocks=(body(2), body(3, SYNTAX))),
    )
    assert functions(result)["f"].actions == (
        call("contextlib", "suppress", line=8),
        imp("b", 9, blocks=(body(8),)),
    )


@pytest.mark.parametrize(
    "header",
    ["with open(p) as fh:", "for i in range(3):", "while running:", "if debug:", "async with x:"],
)
def test_compound_statement_bodies_at_module_level_are_module_level(header):
    result = scan(lines(header, "    import a", "    f()"))
    assert result.actions[-2:] == (imp("a", 2), call("f", line=3))


def test_match_case_bodies_at_module_level_are_module_level():
    source = lines("match cmd:", "    case [x]:", "        import a", "    case _:", "        f()")
    assert scan(source).actions == (imp("a", 3), call("f", line=5))


def test_a_class_body_at_module_level_is_module_level():
    source = lines(
        "class C(Base):", "    import a", "    register()", "    class D:", "        b()"
    )
    assert scan(source).actions == (imp("a", 2), call("register", line=3), call("b", line=5))


MAIN_TESTS = [
    pytest.param('__name__ == "__main__"', id="name-first"),
    pytest.param('"__main__" == __name__', id="literal-first"),
    pytest.param("__name__ == '__main__'", id="single-quotes"),
]


@pytest.mark.parametrize("test", MAIN_TESTS)
def test_the_main_block_is_the_function_main(test):
    source = lines(
        f"if {test}:",
        "    from cli import run",
        "    run()",
        "    y = 1",
        "else:",
        "    import imported",
    )
    result = scan(source)
    assert result.actions == (imp("imported", 6),)
    main = functions(result)["__main__"]
    assert main.line == 1
    assert main.actions == (imp("cli", 2, ("run",)), call("run", line=3))
    assert main.bindings == (("run", Binding("cli", 0, "run")),)
    assert result.bound_names == {"imported"}


def test_not_main_runs_the_body_on_import_and_the_else_branch_as_main():
    source = lines('if __name__ != "__main__":', "    import a", "else:", "    import b")
    result = scan(source)
    assert result.actions == (imp("a", 2),)
    assert functions(result)["__main__"].actions == (imp("b", 4),)


def test_a_main_block_inside_a_module_level_try_is_main():
    source = lines(
        "try:",
        '    if __name__ == "__main__":',
        "        import a",
        "except ImportError:",
        "    pass",
    )
    result = scan(source)
    assert result.actions == ()
    assert functions(result)["__main__"].actions == (imp("a", 3),)


def test_a_main_check_inside_a_function_is_an_ordinary_if():
    source = lines("def f():", '    if __name__ == "__main__":', "        import a")
    result = scan(source)
    assert set(functions(result)) == {"f"}
    assert functions(result)["f"].actions == (imp("a", 3),)


def test_other_comparisons_with_name_are_ordinary():
    source = lines(
        'if __name__ == "app":', "    import a", 'if __name__ < "__main__":', "    import b"
    )
    assert scan(source).actions == (imp("a", 2), imp("b", 4))


# --- functions ----------------------------------------------------------------------------------


def test_function_qualnames():
    source = lines(
        "def f(): pass",
        "async def g(): pass",
        "class Cls:",
        "    def m(self): pass",
        "    async def am(self): pass",
        "    class Inner:",
        "        def n(self): pass",
        "    key = lambda self: 1",
        "def outer():",
        "    def inner(): pass",
        "    class Local:",
        "        def m(self): pass",
        "    return lambda: lambda: 0",
        "top = lambda: 0",
    )
    result = scan(source)
    assert [(f.qualname, f.line) for f in result.functions] == [
        ("f", 1),
        ("g", 2),
        ("Cls.m", 4),
        ("Cls.am", 5),
        ("Cls.Inner.n", 7),
        ("Cls.<lambda:8>", 8),
        ("outer", 9),
        ("outer.inner", 10),
        ("outer.Local.m", 12),
        ("outer.<lambda:13>", 13),
        ("outer.<lambda:13>.<lambda:13>", 13),
        ("<lambda:14>", 14),
    ]
    assert result.function("outer.inner") is functions(result)["outer.inner"]


def test_a_function_holds_its_body_and_not_its_nested_defs():
    source = lines(
        "def create_app(x=default()):",
        "    from .routes import register",
        "    import auth_service",
        "    app = App()",
        "    register(app)",
        "    def nested():",
        "        import lazy",
        "    @app.route('/')",
        "    def index(): ...",
        "    class Local(Base):",
        "        import in_local_class",
        "        helper()",
        "    return app",
    )
    result = scan(source)
    assert result.actions == (call("default", line=1),)
    create_app = functions(result)["create_app"]
    assert create_app.actions == (
        imp("routes", 2, ("register",), level=1),
        imp("auth_service", 3),
        call("App", line=4),
        call("register", line=5),
        call("app", "route", line=8),
        imp("in_local_class", 11),
        call("helper", line=12),
    )
    assert create_app.bindings == (
        ("register", Binding("routes", 1, "register")),
        ("auth_service", Binding("auth_service", 0)),
    )
    assert functions(result)["create_app.nested"].actions == (imp("lazy", 7),)
    assert functions(result)["create_app.index"].actions == ()


def test_a_lambda_holds_its_body_and_its_defaults_run_where_it_stands():
    source = lines(
        "def f():",
        "    return lambda x=default(): __import__('plugin') or load(x)",
        "handler = lambda: importlib.import_module('late')",
    )
    result = scan(source)
    assert functions(result)["f"].actions == (call("default", line=2),)
    assert functions(result)["f.<lambda:2>"].actions == (
        imp("plugin", 2, dynamic=True),
        call("load", line=2),
    )
    assert functions(result)["<lambda:3>"].actions == (imp("late", 3, dynamic=True),)
    assert result.actions == ()


def test_function_import_bindings_keep_the_last():
    source = lines("def f():", "    import a as m", "    from b import c as m")
    assert functions(scan(source))["f"].bindings == (("m", Binding("b", 0, "c")),)


def test_overload_stubs_are_not_functions_and_the_implementation_is():
    source = lines(
        "from typing import overload",
        "import typing",
        "@overload",
        "def f(x: int) -> int: ...",
        "@typing.overload",
        "def f(x: str) -> str: ...",
        "def f(x):",
        "    import real",
    )
    result = scan(source)
    assert [fn.qualname for fn in result.functions] == ["f"]
    assert result.function("f").actions == (imp("real", 8),)


# --- calls --------------------------------------------------------------------------------------

CALLS = [
    pytest.param("f()", [call("f", line=1)], id="name"),
    pytest.param("a.b.c()", [call("a", "b", "c", line=1)], id="dotted"),
    pytest.param("app = create_app()", [call("create_app", line=1)], id="assigned"),
    pytest.param("f()()", [call("f", line=1)], id="call-of-call-result"),
    pytest.param("a().b()", [call("a", line=1)], id="method-of-call-result"),
    pytest.param("handlers[0]()", [], id="subscript"),
    pytest.param("f(g(), key=h())", [call("f", line=1), call("g", line=1), call("h", line=1)]),
    pytest.param('x = f"{render()}"', [call("render", line=1)], id="f-string"),
    pytest.param(
        "[f(x) for x in g() if h(x)]",
        [call("f", line=1), call("g", line=1), call("h", line=1)],
        id="comprehension",
    ),
    pytest.param(
        "{a(): b(), c(): d()}",
        [call("a", line=1), call("b", line=1), call("c", line=1), call("d", line=1)],
        id="dict-in-source-order",
    ),
    pytest.param("x = y if ok() else z()", [call("ok", line=1), call("z", line=1)], id="ifexp"),
    pytest.param("@deco\ndef f(): pass", [call("deco", line=1)], id="decorator"),
    pytest.param("@deco(arg)\ndef f(): pass", [call("deco", line=1)], id="decorator-call"),
    pytest.param("@a.b\nclass C: pass", [call("a", "b", line=1)], id="dotted-class-decorator"),
    pytest.param("@handlers[0]\ndef f(): pass", [], id="subscript-decorator"),
    pytest.param(
        "@outer\n@inner(setting())\ndef f(): pass",
        [call("outer", line=1), call("inner", line=2), call("setting", line=2)],
        id="stacked-decorators",
    ),
    pytest.param(
        "def f(x=g(), *, y=h()): pass",
        [call("g", line=1), call("h", line=1)],
        id="defaults",
    ),
    pytest.param(
        "def f(x: g()) -> h(): pass", [call("g", line=1), call("h", line=1)], id="annotations"
    ),
    pytest.param(
        "from __future__ import annotations\ndef f(x: g()) -> h(): pass",
        [],
        id="postponed-annotations",
    ),
    pytest.param("x: g() = h()", [call("g", line=1), call("h", line=1)], id="variable-annotation"),
    pytest.param("x: g()", [call("g", line=1)], id="bare-variable-annotation"),
    pytest.param(
        "from __future__ import annotations\nx: g() = h()",
        [call("h", line=2)],
        id="postponed-variable-annotation",
    ),
    pytest.param(
        "class C:\n    @staticmethod\n    def m(): pass",
        [call("staticmethod", line=2)],
        id="method-decorator",
    ),
    pytest.param(
        "total = sum(f(x) for x in g())",
        [call("sum", line=1), call("f", line=1), call("g", line=1)],
        id="generator",
    ),
    pytest.param(
        "class C(base(), metaclass=meta()): pass",
        [call("base", line=1), call("meta", line=1)],
        id="class-bases-and-keywords",
    ),
    pytest.param("class C:\n    x = setup()", [call("setup", line=2)], id="class-body"),
    pytest.param("lambda: f()", [], id="lambda-body-is-not-module-level"),
    pytest.param(
        "g(*f(), **h())",
        [call("g", line=1), call("f", line=1), call("h", line=1)],
        id="unpacked-arguments",
    ),
    pytest.param("v = make().a.b.c", [call("make", line=1)], id="attribute-of-call-result"),
    pytest.param("x, *rest = f(), *g()", [call("f", line=1), call("g", line=1)], id="starred"),
]


@pytest.mark.parametrize(("source", "expected"), CALLS)
def test_module_level_calls(source, expected):
    assert calls(scan(source).actions) == expected


def test_local_variable_annotations_are_not_evaluated():
    source = lines("def f():", "    x: g() = h()")
    assert functions(scan(source))["f"].actions == (call("h", line=2),)


def test_a_decorator_inside_a_function_is_a_call_of_that_function():
    source = lines("def f():", "    @register", "    def g(): pass")
    result = scan(source)
    assert result.actions == ()
    assert functions(result)["f"].actions == (call("register", line=2),)


def test_calls_under_return_yield_and_await_belong_to_their_function():
    source = lines(
        "def gen():",
        "    yield g()",
        "    yield from h()",
        "    return k()",
        "async def co():",
        "    await m()",
    )
    result = functions(scan(source))
    assert result["gen"].actions == (call("g", line=2), call("h", line=3), call("k", line=4))
    assert result["co"].actions == (call("m", line=6),)


def test_a_lambda_at_the_base_of_an_attribute_chain_is_a_function():
    result = scan("v = (lambda: f()).__name__.upper()\n")
    assert result.actions == ()
    assert functions(result)["<lambda:1>"].actions == (call("f", line=1),)


def test_a_deep_valid_expression_is_walked_without_recursion():
    # CPython parses and compiles a 2,000-term sum; a recursive visitor would overflow.
    source = "x = " + " + ".join(["1"] * 1999 + ["f()"]) + "\n"
    compile(source, "deep", "exec")
    result = scan(source)
    assert result.syntax_error is None
    assert result.actions == (call("f", line=1),)


# --- bindings -----------------------------------------------------------------------------------

BINDINGS = [
    pytest.param("import a.b", [("a", Binding("a", 0))], id="import-dotted-binds-top"),
    pytest.param("import a.b as c", [("c", Binding("a.b", 0))], id="import-as"),
    pytest.param("from x import f as g", [("g", Binding("x", 0, "f"))], id="from-import-as"),
    pytest.param(
        "from x import f, g",
        [("f", Binding("x", 0, "f")), ("g", Binding("x", 0, "g"))],
        id="from-import-two",
    ),
    pytest.param("from . import m", [("m", Binding("", 1, "m"))], id="from-dot"),
    pytest.param("from ..p.q import m", [("m", Binding("p.q", 2, "m"))], id="from-dotdot"),
    pytest.param("from x import *", [], id="star-binds-nothing"),
    pytest.param(
        "import a\nfrom b import a",
        [("a", Binding("b", 0, "a"))],
        id="last-binding-wins",
    ),
    pytest.param(
        "try:\n    from fast import loads\nexcept ImportError:\n    from json import loads",
        [("loads", Binding("json", 0, "loads"))],
        id="fallback-is-later",
    ),
    pytest.param("class C:\n    import a", [], id="class-body-import"),
    pytest.param("def f():\n    import a", [], id="function-import"),
    pytest.param("if TYPE_CHECKING:\n    import a", [], id="type-checking-import"),
]


@pytest.mark.parametrize(("source", "expected"), BINDINGS)
def test_module_import_bindings(source, expected):
    assert list(scan(source).bindings) == expected


# Each source runs as it is written; CPython then binds exactly `bound` of `names`.
BOUND_NAMES = [
    pytest.param("def f(): pass\nasync def g(): pass\nclass C: pass", {"f", "g", "C"}, id="defs"),
    pytest.param("a = b = 1", {"a", "b"}, id="assignment"),
    pytest.param("a, (b, *c) = 1, (2, 3, 4)", {"a", "b", "c"}, id="tuple-and-starred"),
    pytest.param("[a, b] = 1, 2", {"a", "b"}, id="list-target"),
    pytest.param("x: int = 1", {"x"}, id="annotated-with-value"),
    pytest.param("x: int", set(), id="bare-annotation-binds-nothing"),
    pytest.param("x = 1\nx += 1", {"x"}, id="augmented"),
    pytest.param("if (y := 1):\n    pass", {"y"}, id="walrus"),
    pytest.param("z = [w := i for i in range(3)]", {"z", "w"}, id="walrus-in-comprehension"),
    pytest.param("z = [i for i in range(3)]", {"z"}, id="comprehension-variable-is-local"),
    pytest.param("f = lambda: (k := 1)", {"f"}, id="walrus-in-lambda-is-local"),
    pytest.param("import os.path", {"os"}, id="import-dotted"),
    pytest.param("import os.path as osp", {"osp"}, id="import-as"),
    pytest.param("from os import path, sep as s", {"path", "s"}, id="from-import"),
    pytest.param("for i, j in [(1, 2)]:\n    k = 1", {"i", "j", "k"}, id="for-targets"),
    pytest.param(
        "import contextlib\nwith contextlib.nullcontext((1, 2)) as (a, b):\n    pass",
        {"contextlib", "a", "b"},
        id="with-targets",
    ),
    pytest.param(
        "try:\n    raise ValueError\nexcept ValueError as e:\n    pass",
        set(),
        id="except-as-is-unbound-after-the-handler",
    ),
    pytest.param(
        "match [1, 2, {'k': 3}]:\n    case [a, *rest, {'k': b, **more}] as whole:\n        pass",
        {"a", "rest", "b", "more", "whole"},
        id="match-captures",
    ),
    pytest.param(
        lines("def f():", "    global g", "    g = 1", "    local = 2", "f()"),
        {"f", "g"},
        id="global-assigned",
    ),
    pytest.param(
        lines("def f():", "    global a, b", "    a, (b, c) = 1, (2, 3)", "f()"),
        {"f", "a", "b"},
        id="global-tuple-target",
    ),
    pytest.param(
        lines("g = 1", "def f():", "    global g", "    g += 1", "f()"),
        {"f", "g"},
        id="global-augmented",
    ),
    pytest.param(
        lines("def f():", "    global g", "    for g in (1,): pass", "f()"),
        {"f", "g"},
        id="global-for-target",
    ),
    pytest.param(
        lines(
            "def f():",
            "    global os, loads",
            "    import os.path",
            "    from json import loads",
            "f()",
        ),
        {"f", "os", "loads"},
        id="global-imports",
    ),
    pytest.param(
        lines("def f():", "    global g, C", "    def g(): pass", "    class C: pass", "f()"),
        {"f", "g", "C"},
        id="global-def-and-class",
    ),
    pytest.param(
        lines(
            "def f():",
            "    import contextlib",
            "    global g",
            "    with contextlib.nullcontext() as g: pass",
            "f()",
        ),
        {"f", "g"},
        id="global-with-target",
    ),
    pytest.param(
        lines("def f():", "    global g, w", "    (g := 1)", "    [w := i for i in (1,)]", "f()"),
        {"f", "g", "w"},
        id="global-walrus",
    ),
    pytest.param(
        lines("class C:", "    def m(self):", "        global g", "        g = 1", "C().m()"),
        {"C", "g"},
        id="global-in-method",
    ),
    pytest.param(
        lines("class C:", "    global g", "    g = 1"), {"C", "g"}, id="global-in-class-body"
    ),
    pytest.param(
        lines(
            "def f():",
            "    def inner():",
            "        global g",
            "        g = 1",
            "    inner()",
            "f()",
        ),
        {"f", "g"},
        id="global-in-nested-def",
    ),
    pytest.param(
        lines("def f():", "    global g", "    return g if False else 1", "f()"),
        {"f"},
        id="global-declared-only",
    ),
    pytest.param(
        lines("def f():", "    global g", "    h = 1", "f()"),
        {"f"},
        id="global-other-name-assigned",
    ),
    pytest.param(
        lines(
            "def f():", "    global g", "    def inner():", "        g = 1", "    inner()", "f()"
        ),
        {"f"},
        id="global-does-not-reach-a-nested-def",
    ),
    pytest.param(
        lines("def f():", "    global g", "    class C:", "        g = 1", "f()"),
        {"f"},
        id="global-does-not-reach-a-nested-class-body",
    ),
    pytest.param(
        lines("def f():", "    global g", "    return [g for g in (1,)]", "f()"),
        {"f"},
        id="global-comprehension-variable-is-local",
    ),
    pytest.param(
        lines("def f():", "    global g", "    return (lambda: (g := 1))()", "f()"),
        {"f"},
        id="global-walrus-in-lambda-is-local",
    ),
    pytest.param(
        lines(
            "def f():",
            "    global e",
            "    try:",
            "        raise KeyError",
            "    except KeyError as e:",
            "        pass",
            "f()",
        ),
        {"f"},
        id="global-except-as-is-unbound-after-the-handler",
    ),
    pytest.param(
        lines(
            "from typing import TYPE_CHECKING",
            "def f():",
            "    global g, h",
            "    if TYPE_CHECKING:",
            "        g = 1",
            "f()",
        ),
        {"TYPE_CHECKING", "f"},
        id="global-assigned-under-type-checking",
    ),
    pytest.param(
        lines(
            "from typing import TYPE_CHECKING",
            "def f():",
            "    if TYPE_CHECKING:",
            "        global g",
            "    g = 1",
            "f()",
        ),
        {"TYPE_CHECKING", "f", "g"},
        id="global-declared-under-type-checking-holds-for-the-body",
    ),
    pytest.param("class C:\n    attr = 1\n    def m(self): pass", {"C"}, id="class-attributes"),
    pytest.param(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import json\n    y = 1",
        {"TYPE_CHECKING"},
        id="type-checking",
    ),
    pytest.param(
        "if __name__ == '__main__':\n    import json\n    y = 1",
        set(),
        id="main-block",
    ),
    pytest.param("__getattr__ = print", {"__getattr__"}, id="getattr-assigned"),
]


@pytest.mark.parametrize(("source", "bound"), BOUND_NAMES)
def test_bound_names(source, bound):
    assert scan(source).bound_names == bound


@pytest.mark.parametrize(("source", "bound"), BOUND_NAMES)
def test_bound_names_agree_with_cpython(source, bound):
    namespace: dict[str, object] = {"__name__": "scanned"}
    exec(compile(source, "scanned.py", "exec"), namespace)  # noqa: S102
    assert set(namespace) - {"__name__", "__builtins__", "__annotations__"} == bound


@pytest.mark.parametrize(
    ("source", "bound"),
    [
        pytest.param(
            lines("def f():", "    global g", "    g = 1"), {"f", "g"}, id="uncalled-function"
        ),
        pytest.param(
            lines("async def f():", "    global g", "    g = 1"), {"f", "g"}, id="coroutine"
        ),
        pytest.param(
            lines(
                "def f():", "    global os, loads", "    import os.path", "    from j import loads"
            ),
            {"f", "os", "loads"},
            id="imports",
        ),
        pytest.param(
            lines("def f():", "    global g", "    del g"), {"f"}, id="deleted-is-not-assigned"
        ),
        pytest.param(lines("def f():", "    global g", "    print(g)"), {"f"}, id="declared-only"),
        pytest.param(
            lines("if TYPE_CHECKING:", "    def f():", "        global g", "        g = 1"),
            set(),
            id="function-under-type-checking",
        ),
    ],
)
def test_a_function_global_is_bound_even_when_nothing_calls_the_function(source, bound):
    # Lenient: the name exists once the function has run, and something may run it.
    assert scan(source).bound_names == bound


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("if c:\n    a = 1\nelse:\n    b = 1", id="if-else"),
        pytest.param("try:\n    a = 1\nexcept ImportError:\n    b = 1", id="try-except"),
        pytest.param("try:\n    pass\nfinally:\n    a = b = 1", id="finally"),
        pytest.param("while c:\n    a = 1\nelse:\n    b = 1", id="while-else"),
        pytest.param("for _ in x:\n    a = 1\nelse:\n    b = 1", id="for-else"),
        pytest.param(
            "match m:\n    case 1:\n        a = 1\n    case _:\n        b = 1", id="match"
        ),
    ],
)
def test_names_bound_in_either_branch_are_bound(source):
    assert {"a", "b"} <= scan(source).bound_names


def test_del_does_not_unbind():
    assert scan("x = 1\ndel x").bound_names == {"x"}


def test_classes_are_module_level_classes_only():
    source = lines(
        "class A: pass",
        "class B:",
        "    class Nested: pass",
        "def f():",
        "    class Local: pass",
        "if TYPE_CHECKING:",
        "    class Typing: pass",
        "if c:",
        "    class D: pass",
    )
    assert scan(source).classes == {"A", "B", "D"}


def test_class_bases_are_the_dotted_bases_of_module_level_classes_in_source_order():
    source = lines(
        "class A(Base, mod.Other, Generic[T]): pass",
        "class B: pass",
        "class C(make(), *mixins, metaclass=Meta): pass",
        "class D(a.b.c):",
        "    class Nested(X): pass",
        "def f():",
        "    class Local(Y): pass",
        "if TYPE_CHECKING:",
        "    class Typing(Z): pass",
        "else:",
        "    class Runtime(Z): pass",
        "if c:",
        "    class E(A): pass",
        "else:",
        "    class E(B): pass",
        "if __name__ == '__main__':",
        "    class Main(A): pass",
    )
    result = scan(source)
    assert result.class_bases == (
        ("A", (("Base",), ("mod", "Other"))),
        ("B", ()),
        ("C", ()),
        ("D", (("a", "b", "c"),)),
        ("Runtime", (("Z",),)),
        ("E", (("A",),)),
        ("E", (("B",),)),
    )
    assert {name for name, _ in result.class_bases} == result.classes


def test_class_bases_under_not_type_checking_exist():
    source = lines("if not TYPE_CHECKING:", "    class A(B): pass", "else:", "    class C(D): pass")
    assert scan(source).class_bases == (("A", (("B",),)),)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("def __getattr__(name): ...", True, id="def"),
        pytest.param("__getattr__ = make_getattr()", True, id="assignment"),
        pytest.param("from lazy import __getattr__", True, id="import"),
        pytest.param("if c:\n    def __getattr__(name): ...", True, id="conditional"),
        pytest.param("class C:\n    def __getattr__(self, name): ...", False, id="method"),
        pytest.param("if TYPE_CHECKING:\n    def __getattr__(name): ...", False, id="typing-only"),
        pytest.param("def getattr(name): ...", False, id="other-name"),
    ],
)
def test_module_getattr(source, expected):
    assert scan(source).has_getattr is expected


ALL_NAMES = [
    pytest.param("x = 1", None, id="absent"),
    pytest.param("__all__ = ['a', 'b']", ("a", "b"), id="list"),
    pytest.param("__all__ = ('a',)", ("a",), id="tuple"),
    pytest.param("__all__: list[str] = ['a']", ("a",), id="annotated"),
    pytest.param("__all__ = []", (), id="empty"),
    pytest.param("__all__ = ['a']\n__all__ += ['b']", ("a", "b"), id="augmented"),
    pytest.param("__all__ = ['a']\n__all__.extend(('b', 'c'))", ("a", "b", "c"), id="extend"),
    pytest.param("__all__ = ['a']\n__all__.append('b')", ("a", "b"), id="append"),
    pytest.param("__all__ = ['a']\n__all__ = ['b']", ("b",), id="reassigned"),
    pytest.param("__all__ = names()", None, id="call"),
    pytest.param("__all__ = ['a', name]", None, id="non-string-element"),
    pytest.param("__all__ = ['a'] + other.__all__", None, id="concatenation"),
    pytest.param("__all__ = ['a']\n__all__ += other.__all__", None, id="augmented-non-literal"),
    pytest.param("__all__ = ['a']\n__all__.extend(names)", None, id="extend-non-literal"),
    pytest.param("class C:\n    __all__ = ['a']", None, id="class-attribute"),
    pytest.param("def f():\n    __all__ = ['a']", None, id="function-local"),
]


@pytest.mark.parametrize(("source", "expected"), ALL_NAMES)
def test_all_names(source, expected):
    assert scan(source).all_names == expected


# --- syntax errors and encodings ------------------------------------------------------------------

BROKEN = [
    pytest.param(b"import a\ndef f(:\n", 2, "invalid syntax", id="syntax"),
    pytest.param(b"if x:\nimport a\n", 2, "expected an indented block", id="indentation"),
    pytest.param(b"import a\x00\n", None, "null bytes", id="nul-byte"),
    pytest.param("import a\x00\n", None, "null bytes", id="nul-in-text"),
    pytest.param(b"import a\nx = '\xff'\n", 2, "can't decode", id="invalid-utf8-no-cookie"),
    pytest.param(b"\xff\xfeimport a\n", 1, "can't decode", id="utf16-bom-no-cookie"),
    pytest.param(b"# -*- coding: nosuch -*-\nimport a\n", None, "unknown encoding", id="cookie"),
    pytest.param(b"import a\r\nimport (\r\n", 2, "", id="crlf-line-number"),
    pytest.param("(" * 300 + ")" * 300, 1, "too many nested parentheses", id="parentheses"),
    pytest.param("x = " + "1+" * 100_000 + "1", None, "too deeply nested", id="deep-sum"),
    pytest.param("x = " + "-" * 100_000 + "1", None, "too deeply nested", id="deep-unary"),
    pytest.param("x = '\udcff'", None, "surrogates", id="lone-surrogate"),
]


@pytest.mark.parametrize(("source", "line", "message"), BROKEN)
def test_what_does_not_parse_is_a_syntax_problem_and_nothing_else(source, line, message):
    result = scan(source)
    problem = result.syntax_error
    assert problem is not None
    assert problem.line == line
    assert message in problem.message
    assert "\n" not in problem.message
    assert result == ModuleScan(syntax_error=problem)


VALID_ENCODINGS = [
    pytest.param("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nimport a\n".encode("latin-1"), 3),
    pytest.param(b"\xef\xbb\xbfimport a\n", 1, id="utf8-bom"),
    pytest.param("\ufeffimport a\n", 1, id="bom-in-text"),
    pytest.param(b"x = 1\r\nimport a\r\n", 2, id="crlf"),
    pytest.param(b"x = 1\rimport a\r", 2, id="cr"),
    pytest.param(b"\x0cx = 1\n\x0c\nif x:\n\x0c    import a\n", 4, id="form-feeds"),
    pytest.param(b"x = '\\d'\nimport a\n", 2, id="invalid-escape-warns-but-parses"),
    pytest.param("s = 'h\xe9llo \u2603'\nimport a\n".encode(), 2, id="utf8-text"),
]


@pytest.mark.parametrize(("source", "line"), VALID_ENCODINGS)
def test_valid_encodings_parse(source, line):
    result = scan(source)
    assert result.syntax_error is None
    assert imports(result.actions) == [imp("a", line)]


def test_text_and_bytes_scan_alike():
    source = lines("import a", "try:", "    from . import b", "except ImportError:", "    f()")
    assert scan(source) == scan(source.encode())


def test_a_scan_survives_a_pickle_round_trip():
    # The parse cache pickles scans; every model class must come back equal and of its type.
    source = lines(
        "from __future__ import annotations",
        "import sys",
        "from .flags import FAST",
        "try:",
        "    import a",
        "except ImportError:",
        "    a = None",
        "if FAST:",
        "    from b import c as d",
        "PY = sys.version_info >= (3, 11)",
        "__all__ = ['d']",
        "class C(base.Service):",
        "    def m(self):",
        "        importlib.import_module('e')",
        "        return f()",
    )
    result = scan(source)
    by_module = {action.module: action for action in imports(result.actions)}
    assert by_module["a"].blocks
    assert by_module["b"].conditions
    assert result.functions
    assert result.constants
    again = pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))  # noqa: S301
    assert again == result
    assert [type(action) for action in again.actions] == [type(a) for a in result.actions]
    broken = scan("def (:\n")
    assert pickle.loads(pickle.dumps(broken)) == broken  # noqa: S301


def test_scanning_imports_nothing():
    assert scan("import preflight_scanner_never_imports_this").actions
    assert "preflight_scanner_never_imports_this" not in sys.modules


# --- never raises -------------------------------------------------------------------------------


@given(st.binary())
@example(b"\x00")
@example(b"\xef\xbb\xbf\xff")
@example(b"# coding: utf-16\nimport a\n")
@example(b"[" * 5000)
@example(b"lambda: " * 2000 + b"0")
def test_scan_never_raises_on_bytes(source):
    assert isinstance(scan(source), ModuleScan)


@given(st.text())
@example("\ud800")
@example("(" * 100_000)
@example("x = " + "not " * 50_000 + "y")
def test_scan_never_raises_on_text(source):
    assert isinstance(scan(source), ModuleScan)


FRAGMENTS = [
    "import ", "from ", ".", "a", "b.c", " as ", ", ", "(", ")", ":", "\n", "    ", "\t", "\f",
    "\r\n", "\\\n", "#", "'", '"""', "try", "except", "ImportError", "if ", "TYPE_CHECKING",
    "def ", "class ", "lambda", " = ", "importlib.import_module(", "__import__(", "'x'", "*",
    "@", "__all__", " += ", "[", "]", "match ", "case ", "else", "finally", "with ", "async ",
    "await ", "yield ", ":=", "global ", "__name__ == '__main__'", "f'{", "}'", "\x00", "\xe9",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS)).map("".join))
def test_scan_never_raises_on_python_like_text(source):
    result = scan(source)
    assert isinstance(result, ModuleScan)
    assert (result.syntax_error is None) == _parses(source)


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# --- generated programs: every import statement is recorded once, somewhere ----------------------

SIMPLE = [
    "import a.b",
    "import a.b as c, d",
    "from . import x",
    "from ..p import y, z",
    "from m import *",
    "f()",
    "a.b.c(g())",
    "x = g()",
    "importlib.import_module('dyn')",
    "__import__('dunder')",
    "__all__ += ['n']",
    "pass",
    "v: int",
    "w: int = k()",
    "h = lambda q=d(): __import__('lam')",
    "z = [q := h(i) for i in it()]",
]
HEADERS = [
    "if c:",
    "if __name__ == '__main__':",
    "def f(a=d()):",
    "async def af():",
    "class C(B):",
    "with w() as v:",
    "for i in it():",
    "while c:",
    "@deco\ndef g():",
    "match s:\n    case [*r]:",  # the body goes under the last header line
    "with contextlib.suppress(ImportError):",
    "with w(), suppress(SyntaxError) as v:",
]
HANDLERS = [
    "except ImportError:",
    "except:",
    "except (KeyError, ModuleNotFoundError):",
    "except SyntaxError:\n    raise",
]


def _indented(blocks, depth=1):
    return ["    " * depth + row for block in blocks for row in block]


def _under(header, blocks):
    rows = header.split("\n")
    return [*rows, *_indented(blocks, depth=rows[-1].count("    ") + 1)]


def _compound(inner):
    header = st.tuples(st.sampled_from(HEADERS), st.lists(inner, min_size=1, max_size=3)).map(
        lambda pair: _under(*pair)
    )
    try_ = st.tuples(
        st.lists(inner, min_size=1, max_size=3),
        st.sampled_from(HANDLERS),
        st.lists(inner, min_size=1, max_size=3),
    ).map(lambda t: ["try:", *_indented(t[0]), *t[1].split("\n"), *_indented(t[2])])
    return header | try_


STATEMENTS = st.recursive(st.sampled_from(SIMPLE).map(lambda s: [s]), _compound, max_leaves=15)
PROGRAMS = st.lists(STATEMENTS, min_size=1, max_size=5).map(
    lambda blocks: (
        "from contextlib import suppress\n"
        + "\n".join(row for block in blocks for row in block)
        + "\n"
    )
)


def _imports_in(node):
    """How many imports a node makes by itself (the generated dynamic ones are all literal)."""
    if isinstance(node, ast.Import):
        return len(node.names)
    if isinstance(node, ast.Call):
        return ast.unparse(node.func) in {"__import__", "importlib.import_module"}
    return isinstance(node, ast.ImportFrom)


@given(PROGRAMS)
def test_every_import_in_a_generated_program_is_recorded_once(source):
    tree = ast.parse(source)
    result = scan(source)
    assert result.syntax_error is None
    recorded = Counter(action.line for action in imports(all_actions(result)))
    expected = Counter()
    for node in ast.walk(tree):
        expected[getattr(node, "lineno", 0)] += _imports_in(node)
    assert +expected == recorded
    try_lines = {node.lineno for node in ast.walk(tree) if isinstance(node, ast.Try)}
    with_lines = {node.lineno for node in ast.walk(tree) if isinstance(node, ast.With)}
    for action in all_actions(result):
        for block in action.blocks:
            assert block.catches
            assert block.try_line in (
                try_lines if block.role == "handler" else try_lines | with_lines
            )


# --- real code ------------------------------------------------------------------------------------

STDLIB = Path(sysconfig.get_paths()["stdlib"])
REAL_FILES = [
    "typing.py",
    "importlib/__init__.py",
    "asyncio/base_events.py",
    "json/__init__.py",
    "test/test_grammar.py",
    "test/test_patma.py",
    "test/test_named_expressions.py",
    "test/test_exception_group.py",
]


@pytest.mark.parametrize("relative", REAL_FILES)
def test_real_files_scan(relative):
    path = STDLIB / relative
    if not path.exists():
        pytest.skip(f"{relative} is not installed")
    source = path.read_bytes()
    result = scan(source)
    assert result.syntax_error is None
    count = source.count(b"\n") + 1
    assert all(1 <= action.line <= count for action in all_actions(result))
    assert result.functions
