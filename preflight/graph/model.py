"""What the scanner extracts from one module: pure values the walker evaluates.

A module is a sequence of *actions* run at import time (imports and calls of first-party
functions), plus its functions (whose actions run only when they are called), plus what it
binds (for `from X import name` checks). Each action knows the `try` blocks around it, so the
walker can tell a guarded import from a fallback that runs only when the guarded one failed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable


class _Compact:
    """Pickles as `(class, field values)`, for a fast parse cache.

    A cache holds tens of thousands of these values, and the default pickle path of frozen
    slotted dataclasses looks the fields up again for every object; here one `attrgetter` per
    class reads them all in C.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Rebuild by calling the class with the field values in order."""
        kind = type(self)
        values = _FIELD_VALUES.get(kind)
        if values is None:
            names = (f.name for f in fields(self))  # type: ignore[arg-type]
            values = _FIELD_VALUES[kind] = attrgetter(*names)
        return kind, values(self)


_FIELD_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
"""Per class, what reads its field values in order (every class here has two or more)."""

BlockRole = Literal["body", "handler"]
#: How an import can fail at boot, as the exception CPython raises: ModuleNotFoundError,
#: ImportError (a missing name, a relative import beyond the top), SyntaxError (a broken file),
#: RecursionError (imports nested deeper than the recursion limit allows), AttributeError
#: (`from m import *` where `m.__all__` names something `m` does not bind).
FailureKind = Literal[
    "module_not_found", "import_error", "syntax_error", "recursion_error", "attribute_error"
]
ALL_FAILURES: frozenset[FailureKind] = frozenset(
    {"module_not_found", "import_error", "syntax_error", "recursion_error", "attribute_error"}
)


@dataclass(frozen=True, slots=True)
class Block(_Compact):
    """A `try` whose handlers catch ImportError (or a base of it), and which part we are in."""

    try_line: int
    """Line of the `try`: identifies it within the module."""
    role: BlockRole
    """`body`: an ImportError here is caught; `handler`: runs only when the body failed."""
    catches: frozenset[FailureKind] = frozenset({"module_not_found", "import_error"})
    """The failures some handler catches without re-raising: `except ModuleNotFoundError`
    catches only `module_not_found`; `except ImportError` also `import_error`; `except
    SyntaxError` only `syntax_error`; `except Exception`, `BaseException` or a bare `except:`
    all of them. A handler whose body ends in an unconditional `raise` catches nothing. A
    `with contextlib.suppress(...)` block is a `body` block with what it suppresses."""


@dataclass(frozen=True, slots=True)
class Binding(_Compact):
    """What a name bound by an import refers to: a module, or an attribute of a module."""

    module: str
    """The module as written, without leading dots (`""` for `from . import x`)."""
    level: int
    """Leading dots: 0 for absolute imports."""
    attr: str | None = None
    """`from module import attr`: the name inside `module`; None when the name is the module."""


@dataclass(frozen=True, slots=True)
class Condition(_Compact):
    """`if FLAG:` where FLAG is imported (`from .version import PY314`): decided by the walker.

    The scanner decides tests on this interpreter's version and platform itself; a flag that
    another module computes that way is known only once that module is scanned.
    """

    flag: Binding
    """Where the flag comes from (`attr` is its name in that module)."""
    expected: bool
    """The truth the flag must have for the action to run (False in the `else:` branch)."""


@dataclass(frozen=True, slots=True)
class ImportAction(_Compact):
    """One import statement (or one literal `importlib.import_module` / `__import__` call)."""

    module: str
    """The module as written, without leading dots (`""` for `from . import x`)."""
    level: int
    """Leading dots: 0 for absolute imports."""
    names: tuple[str, ...]
    """`from module import a, b` -> `("a", "b")`; `("*",)` for a star import; `()` for `import`."""
    line: int
    """1-based line of the statement."""
    blocks: tuple[Block, ...] = ()
    """The guarding `try` blocks around it, outermost first."""
    type_checking: bool = False
    """Under `if TYPE_CHECKING:` (never run, never a finding)."""
    dynamic: bool = False
    """A literal `importlib.import_module(...)` or `__import__(...)` call."""
    conditions: tuple[Condition, ...] = ()
    """Imported flags the enclosing `if`s test: it runs only when they hold."""


@dataclass(frozen=True, slots=True)
class CallAction(_Compact):
    """A call of a plain or dotted name (`create_app()`, `routers.register(app)`, `@decorator`).

    Only calls whose callee is a name or a dotted name are recorded; the walker resolves the
    ones that lead to a first-party function and runs that function's actions at boot.
    """

    target: tuple[str, ...]
    """The callee as written, split on dots: `("routers", "register")`."""
    line: int
    """1-based line of the call."""
    blocks: tuple[Block, ...] = ()
    """The guarding `try` blocks around it, outermost first."""
    conditions: tuple[Condition, ...] = ()
    """Imported flags the enclosing `if`s test: it runs only when they hold."""


Action = ImportAction | CallAction


@dataclass(frozen=True, slots=True)
class FunctionScan(_Compact):
    """A function or method: what it does when called."""

    qualname: str
    """`create_app`, `Service.__init__`, `outer.inner` (no `<locals>`)."""
    line: int
    """Line of the `def`."""
    actions: tuple[Action, ...]
    """Imports and calls in its body, in source order (nested defs are separate functions)."""
    bindings: tuple[tuple[str, Binding], ...] = ()
    """Names bound by imports inside the body (for resolving calls made in it)."""


@dataclass(frozen=True, slots=True)
class SyntaxProblem(_Compact):
    """Why a file could not be parsed (syntax error, bad encoding, NUL bytes)."""

    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ModuleScan(_Compact):
    """Everything the walker needs from one source file."""

    actions: tuple[Action, ...] = ()
    """Run at import time, in source order: module level, class bodies, decorators, default
    arguments (not the `if __name__ == "__main__":` block)."""
    functions: tuple[FunctionScan, ...] = ()
    """Every function and method, nested ones included; a lambda is `<lambda:LINE>` inside
    its enclosing qualname (`create_app.<lambda:12>`). Imports in functions that no boot-time
    call reaches are lazy."""
    bindings: tuple[tuple[str, Binding], ...] = ()
    """Names bound at module level by imports (for resolving module-level calls)."""
    classes: frozenset[str] = frozenset()
    """Classes defined at module level (a call `Cls()` runs `Cls.__init__`)."""
    class_bases: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()
    """For each module-level class, its bases as dotted names (`class A(base.Service)` ->
    `("A", (("base", "Service"),))`), so `A()` can run an inherited `__init__`."""
    bound_names: frozenset[str] = frozenset()
    """Every name bound at module level, in any branch, by any binding form; also names a
    function declares `global` and assigns (bound when the function runs; lenient)."""
    has_getattr: bool = False
    """A module-level `__getattr__`: any name may exist."""
    all_names: tuple[str, ...] | None = None
    """A literal `__all__`, or None."""
    constants: tuple[tuple[str, bool], ...] = ()
    """Module-level flags decided for this interpreter (`PY314 = sys.version_info >= (3, 14)`)
    with their truth, for the `Condition`s of modules that import them."""
    syntax_error: SyntaxProblem | None = None
    """Set when the file does not parse; then everything else is empty."""

    def function(self, qualname: str) -> FunctionScan | None:
        """The function with this qualname, if the module defines it."""
        for function in self.functions:
            if function.qualname == qualname:
                return function
        return None
