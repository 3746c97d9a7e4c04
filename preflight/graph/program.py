"""The app's source as the walker sees it: scans, what each import runs, and where calls go.

`Program` answers the static questions the verdicts and the walk both ask: which modules an
import statement runs and what breaks on the way (`steps`), whether `from X import name`
finds `name`, and which first-party function a call such as `create_app()` or
`routers.register(app)` runs. It reads files only through `load_scan` and finds them only
through the `Resolver`: nothing is executed. Each node's actions come as `Statement`s that
keep those answers, so the verdicts and the walk (which both go over every reached import)
work each one out once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from preflight.graph.model import Binding, CallAction, ImportAction, ModuleScan
from preflight.graph.resolver import ModuleKind, Resolver

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from preflight.graph.model import Action, FailureKind, FunctionScan
    from preflight.graph.resolver import Resolved

#: How deep call resolution follows bindings, re-exports and base classes.
MAX_RESOLVE_DEPTH = 25
_NO_HANDLERS: frozenset[int] = frozenset()
_NOTHING_CAUGHT: frozenset[FailureKind] = frozenset()


class Node(NamedTuple):
    """A unit of boot-time execution: a module's body, or one function's body.

    A named tuple rather than a frozen dataclass: it is the key of the verdicts' and the
    walk's hottest dicts, and a tuple hashes and compares in C.
    """

    module: str
    function: str | None = None

    @property
    def label(self) -> str:
        """How the node appears in a chain: `service.main` or `service.factory.create_app()`."""
        return self.module if self.function is None else f"{self.module}.{self.function}()"


@dataclass(frozen=True, slots=True)
class Problem:
    """A broken import, before the walk decides its severity and chain."""

    code: str
    kind: FailureKind
    message: str
    module: str | None
    name: str | None = None
    hint: str | None = None


class Target(NamedTuple):
    """A module an import statement runs, with what both passes ask about it."""

    module: str
    node: Node
    """The module's body, as the verdicts and the walk key it."""
    first_party: bool
    """Found under a root: its body is evaluated and walked."""


Step = Problem | Target
"""One step of an import statement: a module it runs, or what breaks it."""


@dataclass(slots=True, eq=False)
class Statement:
    """One action a node may run, with what the verdicts and the walk ask of it, found once.

    Both passes go through a node's statements (the walk once per visit). The parts that may
    read more scans (the steps, the live test, the callee) are filled in by `Program` on first
    use, so no file is read that the question-by-question order would not read.
    """

    node: Node
    """The node whose body holds the action."""
    action: Action
    handlers: frozenset[int]
    """The `try` lines of the handlers it sits in: it runs only when all of them failed."""
    caught: frozenset[FailureKind]
    """Every failure some enclosing guarded part catches."""
    steps: tuple[Step, ...] | None = None
    """An import's steps, once asked (`Program.steps`)."""
    live: bool | None = None
    """Whether its imported flags let it run, once asked (`Program.live`)."""
    callee: Node | None = None
    """The function a call runs, once asked (`Program.callee`); see `callee_known`."""
    callee_known: bool = False

    def runs(self, failed_guards: set[int] | frozenset[int]) -> bool:
        """An action in a handler runs only when that `try`'s guarded part failed."""
        return not self.handlers or self.handlers <= failed_guards


class Program:
    """Scans and static resolution over the first-party source (memoized per run)."""

    def __init__(
        self,
        resolver: Resolver,
        load_scan: Callable[[Resolved], ModuleScan],
    ) -> None:
        """Read first-party scans through `load_scan`.

        Which distribution a missing module belongs to (PF304) is the walker's question,
        asked only of the findings it reports.
        """
        self.resolver = resolver
        self._load_scan = load_scan
        self._scans: dict[str, ModuleScan | None] = {}
        self._functions: dict[str, dict[str, FunctionScan]] = {}
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._bases: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {}
        self._statements: dict[Node, tuple[Statement, ...]] = {}
        self._steps: dict[tuple[str, tuple[str, ...]], tuple[Step, ...]] = {}
        self._module_calls: dict[tuple[str, tuple[str, ...]], Node | None] = {}

    # --- scans ---------------------------------------------------------------------------

    def scan(self, module: str) -> ModuleScan | None:
        """The scan of a first-party module (None for anything not first-party source)."""
        if module not in self._scans:
            resolved = self.resolver.resolve(module)
            scan: ModuleScan | None = None
            if resolved.first_party and resolved.kind is ModuleKind.NAMESPACE:
                scan = ModuleScan()
            elif resolved.first_party and resolved.kind in {ModuleKind.SOURCE, ModuleKind.PACKAGE}:
                scan = self._load_scan(resolved)
            self._scans[module] = scan
        return self._scans[module]

    def scanned(self, module: str) -> bool:
        """Whether `module` was already read (lazy imports check names only in those)."""
        return module in self._scans

    def is_first_party(self, module: str) -> bool:
        """Found under one of the roots."""
        return self.resolver.resolve(module).first_party

    def is_package(self, module: str) -> bool:
        """A package (its relative imports anchor on itself)."""
        return self.resolver.resolve(module).is_package

    def live(self, statement: Statement) -> bool:
        """False when an imported flag the action depends on is known to be the other way."""
        if statement.live is None:
            statement.live = self._live(statement.node.module, statement.action)
        return statement.live

    def _live(self, module: str, action: Action) -> bool:
        for condition in action.conditions:
            flag = condition.flag
            source = Resolver.absolute(flag.module, flag.level, module, self.is_package(module))
            scan = self.scan(source) if source is not None else None
            if scan is None or flag.attr is None:
                continue
            value = dict(scan.constants).get(flag.attr)
            if value is not None and value is not condition.expected:
                return False
        return True

    def statements(self, node: Node) -> tuple[Statement, ...]:
        """The actions running `node` may do, in order; imports under TYPE_CHECKING never run."""
        found = self._statements.get(node)
        if found is None:
            found = self._statements[node] = tuple(
                _statement(node, action)
                for action in self.actions(node)
                if not (isinstance(action, ImportAction) and action.type_checking)
            )
        return found

    def actions(self, node: Node) -> tuple[Action, ...]:
        """What running `node` does, in order (nothing for a file that does not parse)."""
        scan = self.scan(node.module)
        if scan is None or scan.syntax_error is not None:
            return ()
        if node.function is None:
            return scan.actions
        function = self.functions(node.module).get(node.function)
        return function.actions if function is not None else ()

    def functions(self, module: str) -> dict[str, FunctionScan]:
        """The module's functions by qualname (the first definition wins)."""
        if module not in self._functions:
            scan = self.scan(module)
            index: dict[str, FunctionScan] = {}
            for function in scan.functions if scan is not None else ():
                index.setdefault(function.qualname, function)
            self._functions[module] = index
        return self._functions[module]

    def bindings(self, module: str) -> dict[str, Binding]:
        """Names the module binds by importing (the last binding wins)."""
        if module not in self._bindings:
            scan = self.scan(module)
            self._bindings[module] = dict(scan.bindings) if scan is not None else {}
        return self._bindings[module]

    def bases(self, module: str) -> dict[str, tuple[tuple[str, ...], ...]]:
        """Each module-level class's bases, as dotted names."""
        if module not in self._bases:
            scan = self.scan(module)
            self._bases[module] = dict(scan.class_bases) if scan is not None else {}
        return self._bases[module]

    # --- what one import statement runs ---------------------------------------------------

    def steps(self, statement: Statement) -> tuple[Step, ...]:
        """The modules an import statement runs, in order, and the problems on the way.

        A missing module ends the steps (nothing after it runs); every missing name of a
        `from` import is listed, so one pass reports them all. Memoized on the statement
        (the verdicts and the walk both ask) and by absolute target and names (many modules
        import the same thing).
        """
        if statement.steps is None:
            statement.steps = self._statement_steps(statement)
        return statement.steps

    def _statement_steps(self, statement: Statement) -> tuple[Step, ...]:
        action = statement.action
        if not isinstance(action, ImportAction):
            return ()
        importer = statement.node.module
        anchor = action.level > 0 and self.is_package(importer)  # relative imports only
        target = Resolver.absolute(action.module, action.level, importer, anchor)
        if target is None:
            problem = Problem(
                "PF306",
                "import_error",
                "attempted relative import beyond top-level package",
                module=importer,
                hint=f"{importer} is not inside a package this deep; use an absolute import",
            )
            return (problem,)
        key = (target, action.names)
        found = self._steps.get(key)
        if found is None:
            found = self._steps[key] = tuple(self._compute_steps(target, action.names))
        return found

    def _compute_steps(self, target: str, names: tuple[str, ...]) -> Iterator[Step]:
        parts = target.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            resolved = self.resolver.resolve(prefix)
            if resolved.kind is ModuleKind.MISSING:
                yield self._missing(prefix)
                return
            yield _target(prefix, resolved)
        if names == ("*",):
            yield from self._star_steps(target)
            return
        for name in names:
            yield from self._name_steps(target, name)

    def _name_steps(self, target: str, name: str) -> Iterator[Step]:
        submodule = f"{target}.{name}"
        resolved = self.resolver.resolve(submodule)
        if resolved.kind is not ModuleKind.MISSING:
            yield _target(submodule, resolved)
        elif not self.provides(target, name):
            yield Problem(
                "PF302",
                "import_error",
                f"cannot import name {name!r} from {target!r}",
                module=target,
                name=name,
                hint=self.closest(target, name),
            )

    def _star_steps(self, target: str) -> Iterator[Step]:
        """What `from X import *` runs beyond X: the submodules `X.__all__` lists.

        A name `__all__` lists that X does not bind fails with AttributeError (PF308).
        """
        scan = self.scan(target)
        if scan is None or scan.all_names is None or scan.has_getattr:
            return
        inherited = self._star_names(target, {target})
        if inherited is None:
            return
        for name in scan.all_names:
            submodule = f"{target}.{name}"
            resolved = self.resolver.resolve(submodule)
            if resolved.kind is not ModuleKind.MISSING:
                yield _target(submodule, resolved)
            elif name not in scan.bound_names and name not in inherited:
                yield Problem(
                    "PF308",
                    "attribute_error",
                    f"module {target!r} has no attribute {name!r} (listed in its __all__)",
                    module=target,
                    name=name,
                    hint="remove it from __all__, or define it",
                )

    def _missing(self, module: str) -> Problem:
        parent = module.rpartition(".")[0]
        if parent and not self.is_package(parent):
            message = f"No module named {module!r}; {parent!r} is not a package"
            return Problem("PF301", "module_not_found", message, module=module)
        hint = "not found under the roots nor installed" if not parent else None
        return Problem(
            "PF301", "module_not_found", f"No module named {module!r}", module=module, hint=hint
        )

    # --- names ---------------------------------------------------------------------------

    def provides(self, module: str, name: str) -> bool:
        """Whether `from module import name` finds `name` (unknown counts as yes)."""
        scan = self.scan(module)
        if scan is None or scan.syntax_error is not None or scan.has_getattr:
            return True
        if name in scan.bound_names:
            return True
        exported = self._star_names(module, {module})
        return exported is None or name in exported

    def _star_names(self, module: str, seen: set[str]) -> set[str] | None:
        """Names `module` gets from its own star imports (None: cannot know)."""
        scan = self.scan(module)
        if scan is None:
            return None
        names: set[str] = set()
        for action in scan.actions:
            if not isinstance(action, ImportAction) or action.names != ("*",):
                continue
            if action.type_checking:
                continue
            source = Resolver.absolute(action.module, action.level, module, self.is_package(module))
            if source is None or source in seen:
                continue
            exported = self._exports(source, seen | {source})
            if exported is None:
                return None
            names |= exported
        return names

    def _exports(self, module: str, seen: set[str]) -> set[str] | None:
        """What `from module import *` binds: `__all__`, else its public names."""
        scan = self.scan(module)
        if scan is None or scan.has_getattr:
            return None
        if scan.all_names is not None:
            return set(scan.all_names)
        inherited = self._star_names(module, seen)
        if inherited is None:
            return None
        return {n for n in scan.bound_names | inherited if not n.startswith("_")}

    def closest(self, module: str, name: str) -> str | None:
        """`did you mean 'WebSocketAuthMiddleware'?`, comparing case- and underscore-blind."""
        scan = self.scan(module)
        if scan is None:
            return None
        by_key = {normalize(candidate): candidate for candidate in sorted(scan.bound_names)}
        close = difflib.get_close_matches(normalize(name), list(by_key), n=3, cutoff=0.75)
        if not close:
            return None
        return "did you mean " + " or ".join(repr(by_key[key]) for key in close) + "?"

    # --- calls ---------------------------------------------------------------------------

    def callee(self, statement: Statement) -> Node | None:
        """The first-party function a call statement runs (memoized; None for an import)."""
        if not statement.callee_known:
            action = statement.action
            if isinstance(action, CallAction):
                statement.callee = self.resolve_call(statement.node, action.target)
            statement.callee_known = True
        return statement.callee

    def resolve_call(self, node: Node, target: tuple[str, ...]) -> Node | None:
        """The first-party function a call runs, when it can be known statically."""
        if self.scan(node.module) is None or not target:
            return None
        head, rest = target[0], target[1:]
        if node.function is not None:
            functions = self.functions(node.module)
            nested = f"{node.function}.{head}"
            if not rest and nested in functions:
                return Node(node.module, nested)
            function = functions.get(node.function)
            local = dict(function.bindings) if function is not None else {}
            if head in local:
                return self._follow_binding(node.module, local[head], rest, 0)
        return self._module_call(node.module, target)

    def _module_call(self, module: str, target: tuple[str, ...]) -> Node | None:
        """A call of a name bound at `module`'s top, memoized (decorators and helpers repeat)."""
        key = (module, target)
        if key in self._module_calls:
            return self._module_calls[key]
        found = self._module_calls[key] = self._follow_name(module, target[0], target[1:], 0)
        return found

    def _follow_name(
        self, module: str, head: str, rest: tuple[str, ...], depth: int
    ) -> Node | None:
        """`head.rest...()` as seen from `module`: a function, a class, a binding, a submodule."""
        scan = self.scan(module)
        if scan is None or depth > MAX_RESOLVE_DEPTH:
            return None
        if head in scan.classes:
            return self._class_call(module, head, rest, depth)
        if head in self.functions(module):
            return None if rest else Node(module, head)
        binding = self.bindings(module).get(head)
        if binding is not None:
            return self._follow_binding(module, binding, rest, depth + 1)
        submodule = f"{module}.{head}"
        if rest and self.is_first_party(submodule):
            return self._follow_name(submodule, rest[0], rest[1:], depth + 1)
        return None

    def _class_call(self, module: str, cls: str, rest: tuple[str, ...], depth: int) -> Node | None:
        """`Cls()` runs `Cls.__init__` (its own or inherited); `Cls.method()` runs the method."""
        if not rest:
            return self._init_of(module, cls, depth + 1)
        method = f"{cls}.{rest[0]}"
        return Node(module, method) if len(rest) == 1 and method in self.functions(module) else None

    def _follow_binding(
        self, module: str, binding: Binding, rest: tuple[str, ...], depth: int
    ) -> Node | None:
        source = self._binding_source(module, binding)
        if source is None:
            return None
        if binding.attr is None:
            return self._follow_name(source, rest[0], rest[1:], depth + 1) if rest else None
        return self._follow_name(source, binding.attr, rest, depth + 1)

    def _binding_source(self, module: str, binding: Binding) -> str | None:
        source = Resolver.absolute(binding.module, binding.level, module, self.is_package(module))
        return source if source is not None and self.is_first_party(source) else None

    def _init_of(self, module: str, cls: str, depth: int) -> Node | None:
        """The `__init__` a call of `module.cls` runs: its own, else the first base's."""
        init = f"{cls}.__init__"
        if init in self.functions(module):
            return Node(module, init)
        if depth > MAX_RESOLVE_DEPTH:
            return None
        for base in self.bases(module).get(cls, ()):
            found = self._find_class(module, base, depth + 1)
            if found is not None:
                inherited = self._init_of(found[0], found[1], depth + 1)
                if inherited is not None:
                    return inherited
        return None

    def _find_class(
        self, module: str, parts: tuple[str, ...], depth: int
    ) -> tuple[str, str] | None:
        """Where the class a dotted name refers to in `module` is defined (first-party only)."""
        scan = self.scan(module)
        if scan is None or not parts or depth > MAX_RESOLVE_DEPTH:
            return None
        head, rest = parts[0], parts[1:]
        if not rest and head in scan.classes:
            return module, head
        binding = self.bindings(module).get(head)
        if binding is not None:
            source = self._binding_source(module, binding)
            if source is None:
                return None
            names = rest if binding.attr is None else (binding.attr, *rest)
            return self._find_class(source, names, depth + 1)
        submodule = f"{module}.{head}"
        if rest and self.is_first_party(submodule):
            return self._find_class(submodule, rest, depth + 1)
        return None


def _statement(node: Node, action: Action) -> Statement:
    if not action.blocks:  # most actions: no `try` around them
        return Statement(node, action, _NO_HANDLERS, _NOTHING_CAUGHT)
    handlers: set[int] = set()
    caught: frozenset[FailureKind] = frozenset()
    for block in action.blocks:
        if block.role == "handler":
            handlers.add(block.try_line)
        elif block.role == "body":
            caught |= block.catches
    return Statement(node, action, frozenset(handlers), caught)


def _target(module: str, resolved: Resolved) -> Target:
    return Target(module, Node(module), resolved.first_party)


def normalize(name: str) -> str:
    """Case-, underscore-, dash- and dot-blind spelling, for did-you-mean and PEP 503 names."""
    return name.replace("_", "").replace("-", "").replace(".", "").lower()
