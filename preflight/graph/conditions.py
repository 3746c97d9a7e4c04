"""Conditions decided statically for the running interpreter: version and platform checks.

`if sys.version_info < (3, 11): from exceptiongroup import ExceptionGroup` never runs on 3.11,
and `if sys.platform == "win32": import msvcrt` never runs on Linux. preflight runs in the
container with the container's interpreter, so these tests have one answer here: only the
branch taken is boot-time code (as mypy does for its target). Anything not decidable from
`sys.version_info`, `sys.hexversion`, `sys.platform`, `sys.implementation.name`, `os.name`,
literals and module-level constants built from them stays undecided (both branches count).
"""

from __future__ import annotations

import ast
import operator
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

UNKNOWN: Any = object()
"""The value of an expression that cannot be decided statically."""

_SYS_VALUES: dict[str, object] = {
    "version_info": tuple(sys.version_info),
    "hexversion": sys.hexversion,
    "platform": sys.platform,
    "byteorder": sys.byteorder,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_STRING_METHODS = frozenset({"startswith", "endswith"})


@dataclass
class Environment:
    """What a module knows statically: its names for `sys` and `os`, and its constants."""

    sys_names: set[str] = field(default_factory=set)
    """Local names of the `sys` module (`import sys`, `import sys as _sys`)."""
    os_names: set[str] = field(default_factory=set)
    """Local names of the `os` module."""
    constants: dict[str, object] = field(default_factory=dict)
    """Module-level names bound to a decidable value (`WIN = sys.platform.startswith("win")`,
    `from sys import version_info`)."""

    def note_import(self, module: str, bound_as: str) -> None:
        """`import sys` / `import os as o`: remember the local name."""
        if module == "sys":
            self.sys_names.add(bound_as)
        elif module == "os":
            self.os_names.add(bound_as)
        self.constants.pop(bound_as, None)

    def note_from_import(self, module: str, name: str, bound_as: str) -> None:
        """`from sys import version_info as v`: a constant for this interpreter."""
        if module == "sys" and name in _SYS_VALUES:  # `from sys import version_info`
            self.constants[bound_as] = _SYS_VALUES[name]
        elif module == "os" and name == "name":
            self.constants[bound_as] = os.name
        else:
            self.constants.pop(bound_as, None)

    def note_assignment(self, name: str, value: ast.expr | None) -> None:
        """A module-level `name = value`: a constant when decidable, else forgotten."""
        decided = UNKNOWN if value is None else self.evaluate(value)
        if decided is UNKNOWN:
            self.constants.pop(name, None)
        else:
            self.constants[name] = decided

    def flags(self) -> tuple[tuple[str, bool], ...]:
        """The module's decided constants as truth values (what `Condition`s ask)."""
        return tuple((name, bool(value)) for name, value in self.constants.items())

    def truth(self, test: ast.expr) -> bool | None:
        """Whether `test` is true for this interpreter, or None when it cannot be decided."""
        value = self.evaluate(test)
        return None if value is UNKNOWN else bool(value)

    def evaluate(self, node: ast.expr) -> Any:  # noqa: ANN401 - any literal value
        """The value of `node`, or `UNKNOWN`."""
        rule = _RULES.get(type(node))
        if rule is None:
            return UNKNOWN
        try:
            return rule(self, node)
        except Exception:  # noqa: BLE001 - an odd comparison is undecided, never a crash
            return UNKNOWN

    def _constant(self, node: ast.Constant) -> Any:  # noqa: ANN401
        return node.value

    def _tuple(self, node: ast.Tuple) -> Any:  # noqa: ANN401
        items = [self.evaluate(item) for item in node.elts]
        return UNKNOWN if any(item is UNKNOWN for item in items) else tuple(items)

    def _name(self, node: ast.Name) -> Any:  # noqa: ANN401
        return self.constants.get(node.id, UNKNOWN)

    def _not(self, node: ast.UnaryOp) -> Any:  # noqa: ANN401
        if not isinstance(node.op, ast.Not):
            return UNKNOWN
        operand = self.evaluate(node.operand)
        return UNKNOWN if operand is UNKNOWN else not operand

    def _attribute(self, node: ast.Attribute) -> Any:  # noqa: ANN401
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.sys_names:
            return _SYS_VALUES.get(node.attr, UNKNOWN)
        if isinstance(base, ast.Name) and base.id in self.os_names and node.attr == "name":
            return os.name
        if (
            node.attr == "name"
            and isinstance(base, ast.Attribute)
            and base.attr == "implementation"
            and isinstance(base.value, ast.Name)
            and base.value.id in self.sys_names
        ):
            return sys.implementation.name
        return UNKNOWN

    def _subscript(self, node: ast.Subscript) -> Any:  # noqa: ANN401
        value = self.evaluate(node.value)
        if value is UNKNOWN:
            return UNKNOWN
        index = node.slice
        if isinstance(index, ast.Slice):
            bounds = [
                None if b is None else self.evaluate(b)
                for b in (index.lower, index.upper, index.step)
            ]
            if any(b is UNKNOWN for b in bounds):
                return UNKNOWN
            return value[slice(*bounds)]
        key = self.evaluate(index)
        return UNKNOWN if key is UNKNOWN else value[key]

    def _compare(self, node: ast.Compare) -> Any:  # noqa: ANN401
        left = self.evaluate(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(right_node)
            compare = _COMPARE.get(type(op))
            if left is UNKNOWN or right is UNKNOWN or compare is None:
                return UNKNOWN
            if not compare(left, right):
                return False
            left = right
        return True

    def _bool_op(self, node: ast.BoolOp) -> Any:  # noqa: ANN401
        """`and` / `or` with short-circuits: `False and <unknown>` is False."""
        values = [self.evaluate(value) for value in node.values]
        deciding = isinstance(node.op, ast.Or)  # the value that decides: True for or, False for and
        if any(value is not UNKNOWN and bool(value) is deciding for value in values):
            return deciding
        return UNKNOWN if any(value is UNKNOWN for value in values) else not deciding

    def _string_method(self, node: ast.Call) -> Any:  # noqa: ANN401
        """`sys.platform.startswith("win")`."""
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in _STRING_METHODS:
            return UNKNOWN
        subject = self.evaluate(func.value)
        arguments = [self.evaluate(argument) for argument in node.args]
        if not isinstance(subject, str) or node.keywords or len(arguments) != 1:
            return UNKNOWN
        if arguments[0] is UNKNOWN:
            return UNKNOWN
        return getattr(subject, func.attr)(arguments[0])


_RULES: dict[type[ast.expr], Callable[[Environment, Any], Any]] = {
    ast.Constant: Environment._constant,  # noqa: SLF001 - the class's own dispatch table
    ast.Tuple: Environment._tuple,  # noqa: SLF001
    ast.Name: Environment._name,  # noqa: SLF001
    ast.Attribute: Environment._attribute,  # noqa: SLF001
    ast.Subscript: Environment._subscript,  # noqa: SLF001
    ast.Compare: Environment._compare,  # noqa: SLF001
    ast.BoolOp: Environment._bool_op,  # noqa: SLF001
    ast.UnaryOp: Environment._not,  # noqa: SLF001
    ast.Call: Environment._string_method,  # noqa: SLF001
}
