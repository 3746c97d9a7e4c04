"""Scan one module's source into what the walker evaluates: imports, calls and bindings.

`scan()` is pure: it parses the text once with `ast` (the running interpreter's grammar, which
is the container's) and walks the tree once, with an explicit stack instead of recursion so a
deeply nested but valid expression cannot exhaust the Python stack. It never imports or runs the
code, and it never raises: a file that does not parse or decode comes back as a `ModuleScan`
whose `syntax_error` is set (PF303).

What it records (see `preflight.graph.model`):

- *Module actions* run at import time: module-level statements, class bodies, decorators,
  default values and (without `from __future__ import annotations`) annotations of
  module-level defs, and the bodies of module-level `if`/`for`/`while`/`with`/`try`/`match`.
- *Functions*: each `def`, method and lambda, with the actions of its own body (nested defs
  and lambdas are separate functions; nested class bodies are part of the enclosing body).
  The body of a module-level `if __name__ == "__main__":` never runs on import, so it is
  recorded as a function named `__main__`: its imports are lazy, like a function's.
- *Contexts*: `if TYPE_CHECKING:` marks imports `type_checking` and drops calls and defs
  (none of them exist at runtime); a `try` whose handlers catch some import failure without
  re-raising adds a `Block` to what its body and handlers contain, and a
  `with contextlib.suppress(...)` that suppresses one adds a `body` Block to its body.
- *Bindings*: names bound at module level (PF302), names a function or class body declares
  `global` and assigns, import bindings (to resolve calls), classes and their dotted bases, a
  module `__getattr__` and a literal `__all__`.

Approximations, all on the side of "it may run": a generator expression's calls are recorded
where it stands (as if consumed); a name defined twice (if/else, try/except) gives two
functions with one qualname, in source order; `<any name>.TYPE_CHECKING` counts as
`typing.TYPE_CHECKING`; `import_module`/`__import__` of a computed name, `exec` and `eval`
are not followed.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from preflight.graph.conditions import Environment
from preflight.graph.model import (
    ALL_FAILURES,
    Action,
    Binding,
    Block,
    BlockRole,
    CallAction,
    Condition,
    FailureKind,
    FunctionScan,
    ImportAction,
    ModuleScan,
    SyntaxProblem,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = ["scan"]

_Namespace = Literal["module", "class", "function", "none"]
"""Where a plain name bound here lands: `none` is a comprehension's own target."""

_Failures: TypeAlias = frozenset[FailureKind]

_NOTHING: _Failures = frozenset()

_CATCHES: dict[str, _Failures] = {
    "ModuleNotFoundError": frozenset({"module_not_found"}),
    "ImportError": frozenset({"module_not_found", "import_error"}),
    "SyntaxError": frozenset({"syntax_error"}),
    "RecursionError": frozenset({"recursion_error"}),
    "RuntimeError": frozenset({"recursion_error"}),
    "AttributeError": frozenset({"attribute_error"}),
    "Exception": ALL_FAILURES,
    "BaseException": ALL_FAILURES,
}
"""Exception names whose handler catches some failed import, and which failures. A subclass
of a failure's exception (`IndentationError` for `SyntaxError`) does not catch all of it, so
it catches nothing here."""

_DEEP = "too deeply nested to parse"


def scan(source: bytes | str) -> ModuleScan:
    """What one module does at import time, defines and binds; never raises.

    Pass bytes when reading a file, so a PEP 263 coding cookie and a BOM are honoured.
    """
    tree = _parse(source)
    if isinstance(tree, SyntaxProblem):
        return ModuleScan(syntax_error=tree)
    return _Scanner().run(tree)


def _parse(source: bytes | str) -> ast.Module | SyntaxProblem:
    """The tree, or why there is none (syntax, decoding, NUL bytes, nesting too deep)."""
    if isinstance(source, str) and source.startswith("\ufeff"):
        source = source[1:]
    try:
        # The parser warns on e.g. invalid escapes; under `-W error` a warning becomes a
        # SyntaxError. The verdict must not depend on the caller's warning filters.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except SyntaxError as error:
        line = error.lineno if error.lineno and error.lineno > 0 else None
        return SyntaxProblem(line, _one_line(error.msg or str(error)))
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        return SyntaxProblem(line, _one_line(str(error)))
    except (ValueError, LookupError) as error:
        return SyntaxProblem(None, _one_line(str(error)))
    except (RecursionError, MemoryError):
        return SyntaxProblem(None, _DEEP)


def _one_line(message: str) -> str:
    """The message with its whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(message.split()) or "invalid source"


_POSITION = itemgetter(0, 1)
"""The (line, column) of a `_Scope` action."""


@dataclass(slots=True)
class _Scope:
    """The module or one function: the actions and import bindings collected for it."""

    qualname: str
    line: int
    actions: list[tuple[int, int, Action]] = field(default_factory=list)
    bindings: dict[str, Binding] = field(default_factory=dict)

    def add(self, node: ast.expr | ast.stmt, action: Action) -> None:
        """Record an action at the node's position (sorted into source order at the end)."""
        self.actions.append((node.lineno, node.col_offset, action))

    def bind(self, name: str, binding: Binding) -> None:
        """Bind a name to an import; a later binding of the name replaces an earlier one."""
        self.bindings.pop(name, None)
        self.bindings[name] = binding

    def ordered_actions(self) -> tuple[Action, ...]:
        """The actions in source order (the walk visits some children out of order)."""
        actions = sorted(self.actions, key=_POSITION) if len(self.actions) > 1 else self.actions
        return tuple([action for _, _, action in actions])

    def function(self) -> FunctionScan:
        """This scope as a function."""
        return FunctionScan(
            self.qualname, self.line, self.ordered_actions(), tuple(self.bindings.items())
        )


@dataclass(slots=True)
class _Names:
    """One function or class body: the names it declares `global` and the names it binds."""

    declared: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)

    def globals_bound(self) -> set[str]:
        """Module names this body binds when it runs (`global x` and some binding of `x`)."""
        return self.declared & self.assigned


@dataclass(frozen=True, slots=True)
class _Context:
    """Where a node sits: which scope collects its actions, under which guards and flags."""

    scope: _Scope
    prefix: str
    """Qualname prefix for defs and lambdas found here: `""`, `"Cls."`, `"outer."`."""
    namespace: _Namespace
    blocks: tuple[Block, ...] = ()
    type_checking: bool = False
    conditions: tuple[Condition, ...] = ()
    """Imported flags the enclosing `if`s test (see `Condition`)."""
    names: _Names | None = None
    """The function or class body whose `global` declarations apply here (None at module
    level, in the `__main__` block and in a lambda, where none can make a difference)."""
    binds_module: bool = field(init=False)
    """A plain name bound here is a module attribute once the module has been imported."""
    assigns: set[str] | None = field(init=False)
    """Where a plain name bound here is noted as assigned by its function or class body (in
    case the body declares it `global`); None where no declaration can apply."""

    def __post_init__(self) -> None:
        """Answer, once per context, what every name bound in it asks."""
        binds_module = self.namespace == "module" and not self.type_checking
        assigns = None
        if (
            self.names is not None
            and not self.type_checking
            and self.namespace in {"function", "class"}
        ):
            assigns = self.names.assigned
        object.__setattr__(self, "binds_module", binds_module)
        object.__setattr__(self, "assigns", assigns)

    def guarded(self, line: int, role: BlockRole, catches: _Failures) -> _Context:
        """This context inside one more guarding `try` (or `with contextlib.suppress`)."""
        return replace(self, blocks=(*self.blocks, Block(line, role, catches)))


@dataclass(slots=True)
class _AllNames:
    """A module's `__all__`, followed through literal assignments and extensions."""

    names: list[str] = field(default_factory=list)
    seen: bool = False
    known: bool = True

    def assign(self, values: list[str] | None) -> None:
        """`__all__ = [...]`: a non-literal value makes `__all__` unknown."""
        self.seen = True
        self.known = values is not None
        self.names = values or []

    def extend(self, values: list[str] | None) -> None:
        """`__all__ += [...]`, `.extend([...])`, `.append("x")`."""
        self.seen = True
        if values is None:
            self.known = False
        else:
            self.names.extend(values)

    def result(self) -> tuple[str, ...] | None:
        """The names, or None when `__all__` is absent or not literal."""
        return tuple(self.names) if self.seen and self.known else None


_Nodes: TypeAlias = "Iterator[Any]"
"""What is left to visit of a group: nodes, and the None and plain values beside them."""
_Group = tuple["Iterable[Any]", _Context]
_Handler: TypeAlias = "Callable[[_Scanner, Any, _Context], None]"

_LEAVES = (ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Nonlocal)
"""Node types with nothing to record in them or under them (besides those without fields)."""


_WRAPPERS = frozenset(
    {
        ast.Attribute,
        ast.Expr,
        ast.Return,
        ast.keyword,
        ast.Starred,
        ast.Await,
        ast.Yield,
        ast.YieldFrom,
    }
)
"""Node types that record nothing and whose only child node is their `value`: visiting one is
visiting its value (`a.b.c` is its innermost value `a`; a starred target's name is bound).
The walk does so inline, so none of them can have a `visit_` handler."""


def _leaf(_scanner: _Scanner, _node: object, _context: _Context) -> None:
    """The handler of a leaf: nothing to do."""


_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}
"""Each node type's fields without `ctx` (the Load/Store/Del marker), met so far."""


def _children(node: ast.AST) -> list[Any]:
    """A node's field values in field order, lists flattened, without the `ctx` marker.

    Values that are not nodes (None, names, numbers) stay in: the walk passes over them as
    leaves, which is cheaper than testing each one here.
    """
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(name for name in kind._fields if name != "ctx")
    children: list[Any] = []
    for name in names:
        value = getattr(node, name, None)
        if type(value) is list:
            children.extend(value)
        else:
            children.append(value)
    return children


class _Scanner:
    """One walk over one tree. A handler `visit_<NodeType>` replaces the default descent."""

    _handlers: ClassVar[dict[type, _Handler]] = dict.fromkeys(_LEAVES, _leaf)
    """Handlers by type, filled in as types are met: `visit_<NodeType>`, `_descend` (visit the
    children) or `_leaf` (skip: not a node, or a node with nothing under it)."""

    def __init__(self) -> None:
        self._module = _Scope("", 0)
        self._functions: list[_Scope] = []
        self._classes: set[str] = set()
        self._class_bases: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
        self._bound: set[str] = set()
        self._bodies: list[_Names] = []
        self._all = _AllNames()
        self._importlib_names = {"importlib"}
        self._import_module_names: set[str] = set()
        self._contextlib_names = {"contextlib"}
        self._suppress_names: set[str] = set()
        self._future_annotations = False
        self._environment = Environment()
        """Module-level knowledge for deciding `if sys.version_info ...:` statically."""
        self._stack: list[tuple[_Nodes, _Context]] = []
        """Groups of siblings being visited, each with its context; the innermost on top."""

    def run(self, tree: ast.Module) -> ModuleScan:
        """Walk the tree depth-first in source order and assemble the result.

        The top group yields its next node; a handler queues the node's children as new groups
        on top, so they are visited before the node's later siblings. Plain names, the most
        common node by far, are handled inline, and so are the `_WRAPPERS` around a value.
        """
        self._visit((tree.body, _Context(self._module, "", "module")))
        stack, handlers, wrappers = self._stack, self._handlers, _WRAPPERS
        name, store = ast.Name, ast.Store
        while stack:
            nodes, context = stack[-1]
            for item in nodes:
                node, kind = item, type(item)
                while kind in wrappers:
                    node = node.value
                    kind = type(node)
                if kind is name:  # stored: assignment, for/with/walrus/starred/tuple targets
                    if isinstance(node.ctx, store):
                        self._bind(context, node.id)
                    continue
                handler = handlers.get(kind) or self._handler(kind)
                if handler is not _leaf:
                    handler(self, node, context)
                    break  # its children (if any) are on top of the stack now
            else:
                stack.pop()
        return self._result()

    def _result(self) -> ModuleScan:
        """What the walk collected."""
        bodies = (body for body in self._bodies if body.declared)
        declared_global = set[str]().union(*(body.globals_bound() for body in bodies))
        return ModuleScan(
            actions=self._module.ordered_actions(),
            functions=tuple(scope.function() for scope in self._functions),
            bindings=tuple(self._module.bindings.items()),
            classes=frozenset(self._classes),
            class_bases=tuple(self._class_bases),
            bound_names=frozenset(self._bound | declared_global),
            has_getattr="__getattr__" in self._bound,
            all_names=self._all.result(),
            constants=self._environment.flags(),
        )

    @classmethod
    def _handler(cls, kind: type) -> _Handler:
        """The handler for a type, looked up once per type and process."""
        handler: _Handler = _leaf  # not a node (None, a name, a number), or no fields
        if issubclass(kind, ast.AST):
            visit = getattr(cls, f"visit_{kind.__name__}", None)
            handler = visit or (cls._descend if kind._fields else _leaf)
        cls._handlers[kind] = handler
        return handler

    def _descend(self, node: ast.AST, context: _Context) -> None:
        """The handler of a node with nothing of its own to record: visit its children."""
        self._stack.append((iter(_children(node)), context))

    def _visit(self, *groups: _Group) -> None:
        """Queue the groups' nodes so that they are visited in the order given (None skipped)."""
        for nodes, context in reversed(groups):
            self._stack.append((iter(nodes), context))

    # Recording

    def _import(
        self,
        node: ast.stmt | ast.expr,
        context: _Context,
        module: str,
        level: int,
        names: tuple[str, ...] = (),
        *,
        dynamic: bool = False,
    ) -> None:
        """Record an import with the context's guards, TYPE_CHECKING flag and conditions."""
        action = ImportAction(
            module,
            level,
            names,
            node.lineno,
            context.blocks,
            context.type_checking,
            dynamic,
            context.conditions,
        )
        context.scope.add(node, action)

    def _call(self, node: ast.expr, context: _Context, target: tuple[str, ...]) -> None:
        """Record a call, unless it sits where nothing runs (`if TYPE_CHECKING:`)."""
        if not context.type_checking:
            call = CallAction(target, node.lineno, context.blocks, context.conditions)
            context.scope.add(node, call)

    def _bind(self, context: _Context, name: str) -> None:
        """A plain name bound in this context: a module attribute at module level.

        In a function or class body it is one too when the body declares it `global`.
        """
        if context.binds_module:
            self._bound.add(name)
        elif context.assigns is not None:
            context.assigns.add(name)

    def _bind_import(self, context: _Context, name: str, binding: Binding) -> None:
        """A name bound by an import: a module or function binding, and a bound name."""
        if context.type_checking:
            return
        self._bind(context, name)
        if context.namespace in {"module", "function"}:
            context.scope.bind(name, binding)

    def _names(self) -> _Names:
        """A new function or class body's names (its `global` declarations apply to it only)."""
        names = _Names()
        self._bodies.append(names)
        return names

    def _function_scope(
        self, qualname: str, line: int, context: _Context, names: _Names | None = None
    ) -> _Context:
        """A new function and the context of its body (guards restart at the body)."""
        scope = _Scope(qualname, line)
        self._functions.append(scope)
        return _Context(
            scope, f"{qualname}.", "function", type_checking=context.type_checking, names=names
        )

    # Imports

    def visit_Import(self, node: ast.Import, context: _Context) -> None:  # noqa: N802
        """`import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`."""
        for alias in node.names:
            self._import(node, context, alias.name, 0)
            if alias.asname is None:
                bound = alias.name.partition(".")[0]
                self._bind_import(context, bound, Binding(bound, 0))
            else:
                bound = alias.asname
                self._bind_import(context, bound, Binding(alias.name, 0))
            if alias.name == "importlib":
                self._importlib_names.add(bound)
            elif alias.name == "contextlib":
                self._contextlib_names.add(bound)
            if context.binds_module:
                self._environment.note_import(alias.name if alias.asname else bound, bound)

    def visit_ImportFrom(self, node: ast.ImportFrom, context: _Context) -> None:  # noqa: N802
        """`from m import a as b` binds `b` to `m.a`; a star import binds nothing known."""
        module = node.module or ""
        names = tuple(alias.name for alias in node.names)
        self._import(node, context, module, node.level, names)
        if module == "__future__" and "annotations" in names:
            self._future_annotations = True
        for alias in node.names:
            if alias.name == "*":
                continue
            bound = alias.asname or alias.name
            self._bind_import(context, bound, Binding(module, node.level, alias.name))
            if (module, node.level, alias.name) == ("importlib", 0, "import_module"):
                self._import_module_names.add(bound)
            elif (module, node.level, alias.name) == ("contextlib", 0, "suppress"):
                self._suppress_names.add(bound)
            if context.binds_module:
                self._environment.note_from_import(
                    module if node.level == 0 else "", alias.name, bound
                )

    # Calls

    def visit_Call(self, node: ast.Call, context: _Context) -> None:  # noqa: N802
        """A call of a (dotted) name; a literal `import_module`/`__import__` is an import."""
        target = _dotted(node.func)
        if target is not None:
            dynamic = self._dynamic_import(node, target)
            if dynamic is not None:
                module, level = dynamic
                self._import(node, context, module, level, dynamic=True)
            else:
                self._call(node, context, target)
                if target[0] == "__all__" and context.binds_module:
                    self._extend_all(target[1:], node)
        # A (dotted) name as the callee holds nothing to record: only the arguments are left.
        callee = [] if target is not None else [node.func]
        self._stack.append((iter([*callee, *node.args, *node.keywords]), context))

    def _dynamic_import(self, node: ast.Call, target: tuple[str, ...]) -> tuple[str, int] | None:
        """(module, level) of a literal `__import__` or `import_module` call, else None."""
        match target:
            case ("__import__",):
                return _dunder_import(node)
            case (name,) if name in self._import_module_names:
                return _import_module(node)
            case (module, "import_module") if module in self._importlib_names:
                return _import_module(node)
        return None

    def _extend_all(self, method: tuple[str, ...], node: ast.Call) -> None:
        """`__all__.extend([...])` and `__all__.append("x")`; other methods are ignored."""
        argument = node.args[0] if len(node.args) == 1 and not node.keywords else None
        if method == ("extend",):
            self._all.extend(_literal_strings(argument))
        elif method == ("append",):
            value = _literal_string(argument)
            self._all.extend(None if value is None else [value])

    def _decorators(self, decorators: Sequence[ast.expr], context: _Context) -> None:
        """`@deco` and `@a.b` call the name; `@deco(arg)` is an ordinary call, recorded so."""
        for decorator in decorators:
            target = _dotted(decorator)
            if target is not None:
                self._call(decorator, context, target)

    # Definitions

    def visit_FunctionDef(self, node: ast.FunctionDef, context: _Context) -> None:  # noqa: N802
        """Decorators, defaults and annotations run here; the body is a function of its own."""
        self._define(node, context)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef, context: _Context) -> None:  # noqa: N802
        """Like a def."""
        self._define(node, context)

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef, context: _Context) -> None:
        """A def: what runs where it stands, then its body in a new function scope."""
        self._decorators(node.decorator_list, context)
        self._bind(context, node.name)
        evaluated = [*node.decorator_list, *_defaults(node.args)]
        if not self._future_annotations:
            evaluated += [*_annotations(node.args), node.returns]
        # A def under TYPE_CHECKING never exists; an @overload stub's body never runs.
        if context.type_checking or _is_overload(node.decorator_list):
            self._visit((evaluated, context))
            return
        qualname = context.prefix + node.name
        body = self._function_scope(qualname, node.lineno, context, self._names())
        self._visit((evaluated, context), (node.body, body))

    def visit_Lambda(self, node: ast.Lambda, context: _Context) -> None:  # noqa: N802
        """Defaults run here; the body is the function `<enclosing>.<lambda:LINE>`."""
        defaults = (_defaults(node.args), context)
        if context.type_checking:
            self._visit(defaults)
            return
        qualname = f"{context.prefix}<lambda:{node.lineno}>"
        self._visit(defaults, ([node.body], self._function_scope(qualname, node.lineno, context)))

    def visit_ClassDef(self, node: ast.ClassDef, context: _Context) -> None:  # noqa: N802
        """Decorators, bases and the body run where the class statement stands."""
        self._decorators(node.decorator_list, context)
        self._bind(context, node.name)
        if context.binds_module:
            self._classes.add(node.name)
            bases = (_dotted(base) for base in node.bases)
            self._class_bases.append((node.name, tuple(b for b in bases if b is not None)))
        body = replace(
            context,
            prefix=f"{context.prefix}{node.name}.",
            namespace="class",
            names=None if context.type_checking else self._names(),
        )
        self._visit(
            ([*node.decorator_list, *node.bases, *node.keywords], context), (node.body, body)
        )

    # Control flow

    def visit_If(self, node: ast.If, context: _Context) -> None:  # noqa: N802
        """`if TYPE_CHECKING:` and `if __name__ == "__main__":` change the body's context.

        A test decided for this interpreter (`sys.version_info < (3, 11)`, `sys.platform ==
        "win32"`) keeps only the branch taken: the other never runs, binds nothing, fails nothing.
        """
        if not _is_type_checking(node.test) and not _is_negated_type_checking(node.test):
            taken = self._environment.truth(node.test)
            if taken is not None:
                self._visit(([node.test], context), (node.body if taken else node.orelse, context))
                return
            flag = self._imported_flag(node.test)
            if flag is not None:
                binding, expected = flag
                body = replace(
                    context, conditions=(*context.conditions, Condition(binding, expected))
                )
                orelse = replace(
                    context, conditions=(*context.conditions, Condition(binding, not expected))
                )
                self._visit(([node.test], context), (node.body, body), (node.orelse, orelse))
                return
        body, orelse = context, context
        if _is_type_checking(node.test):
            body = replace(context, type_checking=True)
        elif _is_negated_type_checking(node.test):
            orelse = replace(context, type_checking=True)
        elif context.namespace == "module":
            main = _is_main(node.test)
            if main is not None:
                scope = self._function_scope("__main__", node.lineno, context)
                body, orelse = (scope, context) if main else (context, scope)
        self._visit(([node.test], context), (node.body, body), (node.orelse, orelse))

    def _imported_flag(self, test: ast.expr) -> tuple[Binding, bool] | None:
        """`if FLAG:` / `if not FLAG:` on a name from-imported at module level."""
        expected = True
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, expected = test.operand, False
        if not isinstance(test, ast.Name):
            return None
        binding = self._module.bindings.get(test.id)
        if binding is None or binding.attr is None:
            return None
        return binding, expected

    def visit_Try(self, node: ast.Try, context: _Context) -> None:  # noqa: N802
        """A `try` that catches ImportError guards its body; its handlers are the fallback."""
        self._try(node, context)

    def visit_TryStar(self, node: ast.TryStar, context: _Context) -> None:  # noqa: N802
        """Like a `try`."""
        self._try(node, context)

    def _try(self, node: ast.Try | ast.TryStar, context: _Context) -> None:
        """Body and handlers get a Block when some handler catches a failed import."""
        body, handlers = context, context
        catches = _handled(node.handlers)
        if catches:
            body = context.guarded(node.lineno, "body", catches)
            handlers = context.guarded(node.lineno, "handler", catches)
        self._visit(
            (node.body, body),
            (node.handlers, handlers),
            (node.orelse, context),
            (node.finalbody, context),
        )

    def visit_With(self, node: ast.With, context: _Context) -> None:  # noqa: N802
        """`with contextlib.suppress(...)`: what follows it in the statement is guarded.

        `with a, b:` is `with a: with b:`, so a later item's expression and the body run
        inside an earlier item's `suppress`; the body gets one Block with all of them.
        """
        suppressed = _NOTHING
        groups: list[_Group] = []
        for item in node.items:
            groups.append(([item.context_expr], self._suppressing(node, context, suppressed)))
            suppressed |= self._suppresses(item.context_expr)
            inner = self._suppressing(node, context, suppressed)
            groups.append(([item.optional_vars], inner))
        self._visit(*groups, (node.body, self._suppressing(node, context, suppressed)))

    @staticmethod
    def _suppressing(node: ast.With, context: _Context, catches: _Failures) -> _Context:
        """The context inside a `with` whose `suppress` items so far catch `catches`."""
        return context.guarded(node.lineno, "body", catches) if catches else context

    def _suppresses(self, manager: ast.expr) -> _Failures:
        """What a `contextlib.suppress(...)` context manager suppresses (nothing for others).

        `async with suppress(...)` fails with a TypeError, so only `with` gets here.
        """
        if not isinstance(manager, ast.Call):
            return _NOTHING
        match _dotted(manager.func):
            case (name,) if name in self._suppress_names:
                pass
            case (module, "suppress") if module in self._contextlib_names:
                pass
            case _:
                return _NOTHING
        arguments = (a for a in manager.args if not isinstance(a, ast.Starred))
        return _NOTHING.union(*(_catches(argument) for argument in arguments))

    # Bindings (ExceptHandler has no handler: `except E as e` unbinds `e` when it ends)

    def visit_Global(self, node: ast.Global, context: _Context) -> None:  # noqa: N802
        """`global x` in a function or class body: its bindings of `x` bind the module's.

        The declaration holds for the whole body, even under `if TYPE_CHECKING:`.
        """
        if context.names is not None:
            context.names.declared.update(node.names)

    def visit_comprehension(self, node: ast.comprehension, context: _Context) -> None:
        """A comprehension's own targets bind nothing outside it (a walrus in it does)."""
        self._visit(
            ([node.target], replace(context, namespace="none")), ([node.iter, *node.ifs], context)
        )

    def visit_Assign(self, node: ast.Assign, context: _Context) -> None:  # noqa: N802
        """`__all__ = [...]` sets the module's `__all__`."""
        if context.binds_module and any(_is_name(t, "__all__") for t in node.targets):
            self._all.assign(_literal_strings(node.value))
        if context.binds_module:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self._environment.note_assignment(target.id, node.value)
        self._visit(([*node.targets, node.value], context))

    def visit_AugAssign(self, node: ast.AugAssign, context: _Context) -> None:  # noqa: N802
        """`__all__ += [...]` extends `__all__`."""
        if context.binds_module and _is_name(node.target, "__all__"):
            added = _literal_strings(node.value) if isinstance(node.op, ast.Add) else None
            self._all.extend(added)
        self._visit(([node.target, node.value], context))

    def visit_AnnAssign(self, node: ast.AnnAssign, context: _Context) -> None:  # noqa: N802
        """`x: T = v` binds `x`; `x: T` alone does not. Only module/class annotations run."""
        if node.value is not None and context.binds_module and _is_name(node.target, "__all__"):
            self._all.assign(_literal_strings(node.value))
        if context.binds_module and isinstance(node.target, ast.Name):
            self._environment.note_assignment(node.target.id, node.value)
        annotation = not self._future_annotations and context.namespace != "function"
        binds = node.value is not None or not isinstance(node.target, ast.Name)
        self._visit(
            ([node.annotation] if annotation else [], context),
            ([node.value], context),
            ([node.target] if binds else [], context),
        )

    def visit_MatchAs(self, node: ast.MatchAs, context: _Context) -> None:  # noqa: N802
        """`case x`, `case P as x`."""
        if node.name is not None:
            self._bind(context, node.name)
        self._visit(([node.pattern], context))

    def visit_MatchStar(self, node: ast.MatchStar, context: _Context) -> None:  # noqa: N802
        """`case [*rest]`."""
        if node.name is not None:
            self._bind(context, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping, context: _Context) -> None:  # noqa: N802
        """`case {**rest}`."""
        if node.rest is not None:
            self._bind(context, node.rest)
        self._visit(([*node.keys, *node.patterns], context))


def _dotted(node: ast.expr) -> tuple[str, ...] | None:
    """`a.b.c` -> `("a", "b", "c")`; None for anything but a (dotted) name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def _argument(node: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """A call's argument given by position or by keyword (None when absent or unpacked)."""
    for argument in node.keywords:
        if argument.arg == keyword:
            return argument.value
    if any(isinstance(argument, ast.Starred) for argument in node.args[: position + 1]):
        return None
    return node.args[position] if position < len(node.args) else None


def _import_module(node: ast.Call) -> tuple[str, int] | None:
    """`import_module("a.b")`, or a relative one with a literal or `__name__`/`__package__` package.

    A literal package is resolved here (to an absolute name); the other two are relative to
    the importer, which the walker knows: they keep their level.
    """
    name = _literal_string(_argument(node, 0, "name"))
    if not name:
        return None
    level = len(name) - len(name.lstrip("."))
    if level == 0:
        return name, 0
    relative = name[level:]
    package = _argument(node, 1, "package")
    if isinstance(package, ast.Name) and package.id in {"__name__", "__package__"}:
        return relative, level
    base = _literal_string(package)
    if not base:
        return None
    # importlib._bootstrap._resolve_name: strip level - 1 trailing components.
    bits = base.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    return (f"{bits[0]}.{relative}" if relative else bits[0]), 0


def _dunder_import(node: ast.Call) -> tuple[str, int] | None:
    """`__import__("a.b")`, with a literal `level` when one is given."""
    name = _literal_string(_argument(node, 0, "name"))
    level_node = _argument(node, 4, "level")
    level = 0 if level_node is None else _literal_int(level_node)
    if name is None or name.startswith(".") or level is None or level < 0:
        return None
    if not name and level == 0:
        return None
    return name, level


def _literal_string(node: ast.expr | None) -> str | None:
    """The value of a string literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal_int(node: ast.expr) -> int | None:
    """The value of an int literal (not a bool)."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _literal_strings(node: ast.expr | None) -> list[str] | None:
    """The strings of a list or tuple literal made only of strings."""
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    values = [_literal_string(element) for element in node.elts]
    return None if None in values else [value for value in values if value is not None]


def _is_name(node: ast.expr, name: str) -> bool:
    """The node is the plain name `name`."""
    return isinstance(node, ast.Name) and node.id == name


def _defaults(arguments: ast.arguments) -> list[ast.expr | None]:
    """Default values, evaluated where the def or lambda stands."""
    return [*arguments.defaults, *arguments.kw_defaults]


def _annotations(arguments: ast.arguments) -> list[ast.expr | None]:
    """Parameter annotations, evaluated at def time unless annotations are postponed."""
    parameters = [
        *arguments.posonlyargs,
        *arguments.args,
        arguments.vararg,
        *arguments.kwonlyargs,
        arguments.kwarg,
    ]
    return [parameter.annotation for parameter in parameters if parameter is not None]


def _is_overload(decorators: Sequence[ast.expr]) -> bool:
    """`@overload` or `@typing.overload`: the stub's body never runs."""
    for decorator in decorators:
        match _dotted(decorator):
            case ("overload",) | (_, "overload"):
                return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING`, or `<name>.TYPE_CHECKING` (`typing.`, `t.`, `typing_extensions.`)."""
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING" and isinstance(test.value, ast.Name)
    return _is_name(test, "TYPE_CHECKING")


def _is_negated_type_checking(test: ast.expr) -> bool:
    """`not TYPE_CHECKING`: the `else:` branch is the type-checking one."""
    return (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and _is_type_checking(test.operand)
    )


def _is_main(test: ast.expr) -> bool | None:
    """True for `__name__ == "__main__"` (either way round), False for `!=`, else None."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    sides = (test.left, test.comparators[0])
    if not any(_is_name(side, "__name__") for side in sides):
        return None
    if "__main__" not in {_literal_string(side) for side in sides}:
        return None
    if isinstance(test.ops[0], ast.Eq):
        return True
    return False if isinstance(test.ops[0], ast.NotEq) else None


def _handled(handlers: Sequence[ast.ExceptHandler]) -> _Failures:
    """The failures a `try` catches, each by the first handler that matches it.

    CPython tries no other handler, so a failure whose first match re-raises escapes.
    """
    caught: set[FailureKind] = set()
    matched: set[FailureKind] = set()
    for handler in handlers:
        kinds = _catches(handler.type) - matched
        matched |= kinds
        if not _reraises(handler.body):
            caught |= kinds
    return frozenset(caught)


def _reraises(body: Sequence[ast.stmt]) -> bool:
    """A handler re-raises: a `raise` at the top level of its body is always reached.

    Not when a `return`, `break` or `continue` before it leaves first.
    """
    for statement in body:
        if isinstance(statement, ast.Raise):
            return True
        if isinstance(statement, ast.Return | ast.Break | ast.Continue):
            return False
    return False


def _catches(kind: ast.expr | None) -> _Failures:
    """What of a failed import a handler catches: bare, a name, `builtins.X`, or a tuple."""
    if kind is None:
        return ALL_FAILURES
    if isinstance(kind, ast.Tuple):
        return _NOTHING.union(*(_catches(element) for element in kind.elts))
    if isinstance(kind, ast.Attribute):
        return _CATCHES.get(kind.attr, _NOTHING)
    return _CATCHES.get(kind.id, _NOTHING) if isinstance(kind, ast.Name) else _NOTHING
