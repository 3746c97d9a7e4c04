"""The walk: every broken boot-time import reachable from the entry, with its shortest chain.

A breadth-first search from the entry over what runs at boot: module-level imports of
first-party modules, boot-time calls of first-party functions (`app = create_app()`,
decorators, class bodies) and the handlers of guards whose guarded part fails
(`verdict.Verdicts` says which). Each problem is an error when its failure escapes to the
entry, `info` when a guard on the way catches it (or when it sits in a handler that does not
run), and the `imports.lazy` setting for imports inside functions that no boot-time code
calls. Nothing is executed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from preflight.codes import Severity
from preflight.graph.model import ImportAction
from preflight.graph.program import Node, Problem, Program
from preflight.graph.resolver import ModuleKind
from preflight.graph.verdict import FRAMES_PER_IMPORT, Verdicts
from preflight.report import Finding

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from preflight.distmap import DistributionMap
    from preflight.graph.model import FailureKind, ModuleScan
    from preflight.graph.program import Statement
    from preflight.graph.resolver import Resolved, Resolver

LazyPolicy = Literal["warn", "error", "ignore"]
#: How many calls deep boot-time call following goes in the walk.
MAX_CALL_DEPTH = 25
#: Cycles reported at most (each is one info finding).
MAX_CYCLES = 20


class Edge(NamedTuple):
    """An import seen on the way, for `preflight graph`.

    A named tuple: a walk makes one per import per visit (~90,000 for 4,000 modules), and a
    frozen dataclass takes several times as long to build.
    """

    importer: str
    target: str
    line: int
    kind: Literal["import", "guarded", "fallback"]
    first_party: bool


@dataclass
class WalkResult:
    """What the walk found and saw."""

    findings: list[Finding] = field(default_factory=list)
    modules: dict[str, Resolved] = field(default_factory=dict)
    """First-party modules reached at boot, in the order reached."""
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The shortest chain from the entry to each reached module (both ends included)."""
    edges: list[Edge] = field(default_factory=list)
    functions_followed: int = 0


@dataclass(frozen=True, slots=True)
class _Visit:
    node: Node
    chain: tuple[str, ...]
    caught: frozenset[FailureKind]
    """What a guard on the path from the entry catches."""
    depth: int


_Problems = dict[tuple[object, ...], Finding]


@dataclass
class _State:
    """One walk in progress: the visits queued, and what was found so far."""

    result: WalkResult
    queue: deque[_Visit] = field(default_factory=deque)
    seen: dict[Node, list[frozenset[FailureKind]]] = field(default_factory=dict)
    """Each node queued so far, with what a guard on the way caught for each of its visits."""
    problems: _Problems = field(default_factory=dict)

    def enqueue(
        self,
        node: Node,
        chain: tuple[str, ...],
        label: str,
        caught: frozenset[FailureKind],
        depth: int,
    ) -> None:
        """Queue a visit of `node` (reached by `chain`, then `label`) unless it would add nothing.

        A visit queued earlier whose path caught no more than this one's reports everything
        this one would, at a severity at least as high, and runs first (the queue is FIFO).
        """
        earlier = self.seen.get(node)
        if earlier is None:
            self.seen[node] = [caught]
        elif any(before <= caught for before in earlier):
            return
        else:
            earlier.append(caught)
        self.queue.append(_Visit(node, (*chain, label), caught, depth))


class Walker:
    """Walks one entry. Create one per run: it memoizes scans and verdicts."""

    def __init__(
        self,
        resolver: Resolver,
        load_scan: Callable[[Resolved], ModuleScan],
        *,
        lazy: LazyPolicy = "warn",
        ignore: Collection[str] = (),
        distributions: DistributionMap | None = None,
        recursion_limit: int | None = None,
    ) -> None:
        """Walk with these settings.

        `distributions` names the distribution of a missing module (PF304);
        `recursion_limit` is the server's.
        """
        self.program = Program(resolver, load_scan)
        self._distributions = distributions
        self._lazy = lazy
        self._ignore = tuple(ignore)
        self.verdicts = Verdicts(
            self.program, ignored=self._ignored, recursion_limit=recursion_limit
        )

    def walk(self, entry: str) -> WalkResult:
        """Every broken boot-time import reachable from `entry`, each with its shortest chain."""
        result = WalkResult()
        resolved = self.program.resolver.resolve(entry)
        if resolved.kind is ModuleKind.MISSING or not resolved.first_party:
            result.findings.append(self._entry_missing(entry, resolved))
            return result
        parts = entry.split(".")
        prefixes = [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        for prefix in prefixes:  # `import a.b.main` runs a, then a.b, then a.b.main
            self.verdicts.failure(Node(prefix), nested=1)
        self.verdicts.count_frames = False
        state = _State(result)
        for prefix in prefixes:
            state.enqueue(Node(prefix), (), prefix, frozenset(), 0)
        while state.queue:
            self._visit(state.queue.popleft(), state)
        for module in list(result.modules):
            self._lazy_findings(module, state)
        result.findings.extend(state.problems.values())
        result.findings.extend(_cycles(result.edges, result.chains))
        result.functions_followed = sum(1 for node in state.seen if node.function is not None)
        return result

    def _visit(self, visit: _Visit, state: _State) -> None:
        node = visit.node
        if node.function is None:
            resolved = self.program.resolver.resolve(node.module)
            state.result.modules.setdefault(node.module, resolved)
            state.result.chains.setdefault(node.module, visit.chain)
            scan = self.program.scan(node.module)
            if scan is not None and scan.syntax_error is not None:
                self._syntax_problem(visit, resolved, scan, state.problems)
                return
        failed = self.verdicts.failed_guards(node)
        for statement in self.program.statements(node):
            if not self.program.live(statement):
                continue  # `if PY314:` with PY314 False on this interpreter: never runs
            active = statement.runs(failed)
            caught = (visit.caught | statement.caught) if statement.caught else visit.caught
            if isinstance(statement.action, ImportAction):
                self._visit_import(visit, statement, active, caught, state)
                continue
            callee = self.program.callee(statement) if active else None
            if callee is not None and visit.depth < MAX_CALL_DEPTH:
                state.enqueue(callee, visit.chain, callee.label, caught, visit.depth + 1)

    def _visit_import(
        self,
        visit: _Visit,
        statement: Statement,
        active: bool,
        caught: frozenset[FailureKind],
        state: _State,
    ) -> None:
        """Record the import's problems at their severity; queue the first-party modules it runs."""
        module, line = visit.node.module, statement.action.line
        importer = f"{module}."
        kind: Literal["import", "guarded", "fallback"] = "import"
        if statement.handlers:
            kind = "fallback"
        elif caught != visit.caught:
            kind = "guarded"
        for step in self.program.steps(statement):
            if isinstance(step, Problem):
                self._judge(step, visit, line, active=active, caught=caught, state=state)
                continue
            if not importer.startswith(f"{step.module}."):  # not itself nor its own package
                state.result.edges.append(Edge(module, step.module, line, kind, step.first_party))
            if active and step.first_party and not self._ignored(step.module):
                state.enqueue(step.node, visit.chain, step.module, caught, visit.depth)
        deep = self.verdicts.too_deep.get((module, line)) if self.verdicts.too_deep else None
        if deep is not None:
            self._judge(_too_deep(deep), visit, line, active=active, caught=caught, state=state)

    def _judge(
        self,
        problem: Problem,
        visit: _Visit,
        line: int,
        *,
        active: bool,
        caught: frozenset[FailureKind],
        state: _State,
    ) -> None:
        """An error when the import runs and no guard on the way catches it, else info."""
        severity = Severity.ERROR if active and problem.kind not in caught else Severity.INFO
        self._record(
            problem, severity, visit.node, line=line, chain=visit.chain, problems=state.problems
        )

    def _record(
        self,
        problem: Problem,
        severity: Severity,
        node: Node,
        *,
        line: int,
        chain: tuple[str, ...],
        problems: _Problems,
    ) -> None:
        if self._ignored(problem.module) or self._ignored(node.module):
            return
        key = (problem.code, node.module, line, problem.module, problem.name)
        existing = problems.get(key)
        if existing is not None and _RANK[existing.severity] >= _RANK[severity]:
            return
        if severity is not Severity.INFO:  # caught ones stay cheap: no metadata is read
            problem = self._owned(problem)
        problems[key] = Finding(
            code=problem.code,
            check="imports",
            severity=severity,
            message=problem.message,
            module=problem.module,
            name=problem.name,
            file=self.program.resolver.resolve(node.module).relative_file(),
            line=line,
            chain=chain,
            hint=problem.hint if severity is not Severity.INFO else _info_hint(problem.hint),
        )

    def _owned(self, problem: Problem) -> Problem:
        """A missing module named with its distribution: PF304 when declared, not installed."""
        module = problem.module
        if self._distributions is None or problem.code != "PF301" or module is None:
            return problem
        parent = module.rpartition(".")[0]
        if parent and not self.program.is_package(parent):
            return problem  # `a.b` where `a` is a module: no distribution question
        top = module.split(".", 1)[0]
        top_missing = self.program.resolver.resolve(top).kind is ModuleKind.MISSING
        owner = self._distributions.owner(module, top_missing=top_missing)
        if owner is None:
            return problem
        lazy = problem.hint if problem.hint and problem.hint != _NOT_FOUND else None
        if not owner.installed and owner.declared is not None:
            hint = f"pip install '{owner.declared.pip_spec}'"
            return Problem(
                "PF304",
                problem.kind,
                f"No module named {module!r}: distribution {owner.distribution}"
                f" (declared in {owner.declared_at}) is not installed",
                module=module,
                hint=f"{hint}; {lazy}" if lazy else hint,
            )
        if not owner.installed:
            return problem
        declared = f" (declared in {owner.declared_at})" if owner.declared_at else ""
        hint = (
            f"reinstall it: pip install --force-reinstall {owner.distribution}"
            " (an editable install's source folder may have moved)"
        )
        return Problem(
            "PF301",
            problem.kind,
            f"No module named {module!r}, though distribution {owner.distribution}{declared}"
            " is installed and lists it",
            module=module,
            hint=f"{hint}; {lazy}" if lazy else hint,
        )

    def _syntax_problem(
        self, visit: _Visit, resolved: Resolved, scan: ModuleScan, problems: _Problems
    ) -> None:
        error = scan.syntax_error
        if error is None or self._ignored(visit.node.module):
            return
        caught = "syntax_error" in visit.caught
        problems[("PF303", visit.node.module)] = Finding(
            code="PF303",
            check="imports",
            severity=Severity.INFO if caught else Severity.ERROR,
            message=f"{visit.node.module} does not parse: {error.message}",
            module=visit.node.module,
            file=resolved.relative_file(),
            line=error.line,
            chain=visit.chain[:-1] or visit.chain,
            hint="this interpreter parses it as the container's will: fix the syntax or encoding",
        )

    def _lazy_findings(self, module: str, state: _State) -> None:
        """Imports inside functions no boot-time code calls: they fail at their first call."""
        if self._lazy == "ignore":
            return
        severity = Severity.ERROR if self._lazy == "error" else Severity.WARNING
        for qualname, function in self.program.functions(module).items():
            node = Node(module, qualname)
            if node in state.seen or not any(isinstance(a, ImportAction) for a in function.actions):
                continue  # called at boot (walked), or nothing to report
            for statement in self.program.statements(node):
                if not isinstance(statement.action, ImportAction):
                    continue
                if not self.program.live(statement):
                    continue
                for step in self.program.steps(statement):
                    if not isinstance(step, Problem):
                        continue
                    if step.code == "PF302" and not self.program.scanned(str(step.module)):
                        continue  # names are checked only in modules the walk read anyway
                    hint = f"imported inside {qualname}(), which runs it at its first call"
                    lazy = Problem(step.code, step.kind, step.message, step.module, step.name, hint)
                    chain = (*state.result.chains.get(module, (module,)), node.label)
                    level = Severity.INFO if step.kind in statement.caught else severity
                    line = statement.action.line
                    self._record(lazy, level, node, line=line, chain=chain, problems=state.problems)

    def _entry_missing(self, entry: str, resolved: Resolved) -> Finding:
        where = (
            "is installed, not under the roots"
            if resolved.kind is not ModuleKind.MISSING
            else "was not found"
        )
        return Finding(
            code="PF307",
            check="imports",
            severity=Severity.ERROR,
            message=f"the entry module {entry!r} {where}",
            module=entry,
            hint="check --app and --root (the roots are put first on the import path)",
        )

    def _ignored(self, module: str | None) -> bool:
        if module is None or not self._ignore:
            return False
        return any(module == name or module.startswith(f"{name}.") for name in self._ignore)


def _too_deep(frames: int) -> Problem:
    nested = frames // FRAMES_PER_IMPORT
    return Problem(
        "PF309",
        "recursion_error",
        f"imports nest about {nested} deep here: past the interpreter's recursion limit"
        " this import raises RecursionError",
        module=None,
        hint="import some of the chain lazily (inside functions), or flatten it",
    )


# --- helpers --------------------------------------------------------------------------------

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
#: The program's hint on a missing top-level module, replaced when its distribution is known.
_NOT_FOUND = "not found under the roots nor installed"


def _info_hint(hint: str | None) -> str:
    caught = "a try/except around the import catches this at boot"
    return f"{caught}; {hint}" if hint else caught


def _cycles(edges: Sequence[Edge], chains: dict[str, tuple[str, ...]]) -> list[Finding]:
    """Module-level import cycles among first-party modules (legal, but fragile): info."""
    lines: dict[str, dict[str, int]] = {}  # importer -> target -> first line: each pair once
    for edge in edges:
        if edge.kind == "import" and edge.first_party:
            lines.setdefault(edge.importer, {}).setdefault(edge.target, edge.line)
    graph = {importer: list(targets) for importer, targets in lines.items()}
    findings: list[Finding] = []
    for component in _strongly_connected(graph):
        if len(findings) >= MAX_CYCLES:
            break
        cycle = _one_cycle(component, graph)
        if cycle is None:
            continue
        head = cycle[0]
        findings.append(
            Finding(
                code="PF305",
                check="imports",
                severity=Severity.INFO,
                message="import cycle: " + " -> ".join((*cycle, head)),
                module=head,
                line=lines[head].get(cycle[1] if len(cycle) > 1 else head),
                chain=chains.get(head, (head,)),
                hint="legal while no module uses a name of another before it is bound",
            )
        )
    return findings


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a 500-module chain must not hit the recursion limit)."""
    tarjan = _Tarjan(graph)
    for start in sorted(graph):
        if start not in tarjan.index:
            tarjan.run(start)
    return tarjan.components


@dataclass
class _Tarjan:
    graph: dict[str, list[str]]
    index: dict[str, int] = field(default_factory=dict)
    low: dict[str, int] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    on_stack: set[str] = field(default_factory=set)
    components: list[list[str]] = field(default_factory=list)

    def run(self, start: str) -> None:
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            vertex, position = work.pop()
            if position == 0:
                self.index[vertex] = self.low[vertex] = len(self.index)
                self.stack.append(vertex)
                self.on_stack.add(vertex)
            successors = self.graph.get(vertex, [])
            if position < len(successors):
                work.append((vertex, position + 1))
                successor = successors[position]
                if successor not in self.index:
                    work.append((successor, 0))
                elif successor in self.on_stack:
                    self.low[vertex] = min(self.low[vertex], self.index[successor])
                continue
            if work:  # back in the parent: it inherits the child's low link
                parent = work[-1][0]
                self.low[parent] = min(self.low[parent], self.low[vertex])
            if self.low[vertex] == self.index[vertex]:
                self._pop_component(vertex)

    def _pop_component(self, vertex: str) -> None:
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == vertex:
                break
        self.components.append(component)


def _one_cycle(component: list[str], graph: dict[str, list[str]]) -> tuple[str, ...] | None:
    """A shortest cycle through the component's smallest member (None for a lone module)."""
    members = set(component)
    head = min(component)
    if len(component) == 1:
        return (head,) if head in graph.get(head, []) else None
    previous: dict[str, str] = {}
    queue = deque([head])
    while queue:
        vertex = queue.popleft()
        for successor in graph.get(vertex, []):
            if successor == head:
                path = [vertex]
                while path[-1] != head:
                    path.append(previous[path[-1]])
                return tuple(reversed(path))
            if successor in members and successor not in previous:
                previous[successor] = vertex
                queue.append(successor)
    return None
