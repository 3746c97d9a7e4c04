"""CPython's verdict, statically: whether running a module or a function fails, and how.

Runs the program's actions in order, as the interpreter would on import: an import fails
when a module it runs is missing, does not parse, or itself fails; a `try` catches the kinds
its handlers catch, from anywhere in the guarded import's subtree, and then its handler runs;
a call of a first-party function runs that function's actions. A module being imported
further up (an import cycle) counts as succeeding: Python hands out the partial module.

The evaluation is an explicit stack, not recursion, and it counts the interpreter frames an
import nests (`FRAMES_PER_IMPORT`): past `sys.getrecursionlimit()` CPython raises
RecursionError, so a chain of a few hundred nested imports fails there too.
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from preflight.graph.model import CallAction
from preflight.graph.program import Node, Problem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from preflight.graph.model import Block, FailureKind
    from preflight.graph.program import Program, Statement

#: Interpreter frames one nested import costs (importlib's bootstrap frames plus the module's
#: own); measured on CPython 3.11: 133 nested imports fit a limit of 1000, 275 one of 2000.
FRAMES_PER_IMPORT = 7
#: Frames a server uses before it imports the app (uvicorn's or gunicorn's own call stack).
SERVER_FRAMES = 30


@dataclass(slots=True)
class _Frame:
    """One node being run: where in its statements it is, and which guards have failed."""

    node: Node
    statements: tuple[Statement, ...]
    frames: int
    index: int = 0
    step: int = 0
    """The next step of the current import statement."""
    failed: set[int] = field(default_factory=set)
    escaped: FailureKind | None = None


@dataclass(frozen=True, slots=True)
class _Finished:
    kind: FailureKind | None


class Verdicts:
    """Memoized verdicts for one run."""

    def __init__(
        self,
        program: Program,
        *,
        ignored: Callable[[str | None], bool],
        recursion_limit: int | None = None,
    ) -> None:
        """`ignored` modules never fail (`imports.ignore`)."""
        self._program = program
        self._ignored = ignored
        self._limit = recursion_limit or sys.getrecursionlimit()
        self._failures: dict[Node, FailureKind | None] = {}
        self._failed_guards: dict[Node, frozenset[int]] = {}
        self._in_progress: set[Node] = set()
        self.too_deep: dict[tuple[str, int], int] = {}
        """(importer, line) -> estimated frames, where an import would pass the limit."""
        self.count_frames = True
        """Model the recursion limit. True while the entry's own import is evaluated, where
        the nesting is CPython's; a node evaluated later on its own has no known nesting."""

    def failure(self, node: Node, *, nested: int = 0) -> FailureKind | None:
        """The failure that escapes from running `node` (`nested`: imports already open)."""
        if node in self._failures:
            return self._failures[node]
        return self._evaluate(node, SERVER_FRAMES + nested * FRAMES_PER_IMPORT)

    def failed_guards(self, node: Node) -> frozenset[int]:
        """The `try` lines in `node` whose guarded part fails (so their handlers run)."""
        self.failure(node)
        return self._failed_guards.get(node, frozenset())

    # --- the stack machine ----------------------------------------------------------------

    def _evaluate(self, root: Node, frames: int) -> FailureKind | None:
        stack = [self._open(root, frames)]
        result: FailureKind | None = None
        while stack:
            frame = stack[-1]
            outcome = self._advance(frame)
            if isinstance(outcome, Node):
                cost = frame.frames + (FRAMES_PER_IMPORT if outcome.function is None else 1)
                if self.count_frames and cost > self._limit:
                    self.too_deep.setdefault((frame.node.module, self._line(frame)), cost)
                    self._resume(frame, "recursion_error")
                else:
                    stack.append(self._open(outcome, cost))
                continue
            stack.pop()
            self._close(frame, outcome.kind)
            if stack:
                self._resume(stack[-1], outcome.kind)
            else:
                result = outcome.kind
        return result

    def _open(self, node: Node, frames: int) -> _Frame:
        self._in_progress.add(node)
        frame = _Frame(node, self._program.statements(node), frames)
        scan = self._program.scan(node.module)
        if node.function is None and scan is not None and scan.syntax_error is not None:
            frame.escaped = "syntax_error"
        return frame

    def _close(self, frame: _Frame, kind: FailureKind | None) -> None:
        self._in_progress.discard(frame.node)
        self._failures[frame.node] = kind
        self._failed_guards[frame.node] = frozenset(frame.failed)

    def _known(self, node: Node) -> FailureKind | _Unknown | None:
        """The memoized failure; None (success) while it runs further up (a cycle)."""
        kind = self._failures.get(node, _UNKNOWN)
        if kind is _UNKNOWN and node in self._in_progress:
            return None
        return kind

    def _advance(self, frame: _Frame) -> Node | _Finished:
        """Run `frame` until it needs a node evaluated first, or until it is finished."""
        statements = frame.statements
        while frame.escaped is None and frame.index < len(statements):
            statement = statements[frame.index]
            if not statement.runs(frame.failed) or not self._program.live(statement):
                self._next_action(frame)
                continue
            needed = (
                self._advance_call(frame, statement)
                if isinstance(statement.action, CallAction)
                else self._advance_import(frame, statement)
            )
            if needed is not None:
                return needed
        return _Finished(frame.escaped)

    def _advance_call(self, frame: _Frame, statement: Statement) -> Node | None:
        """A call: its callee is evaluated first unless known; `_resume` then moves past it."""
        callee = self._program.callee(statement)
        if callee is not None:
            kind = self._known(callee)
            if kind is _UNKNOWN:
                return callee
            if kind is not None:
                self._fail(frame, statement, kind)
                return None
        self._next_action(frame)
        return None

    def _advance_import(self, frame: _Frame, statement: Statement) -> Node | None:
        steps = self._program.steps(statement)
        while frame.step < len(steps):
            step = steps[frame.step]
            if isinstance(step, Problem):
                if not self._ignored(step.module):
                    self._fail(frame, statement, step.kind)
                    return None
            elif step.first_party and not self._ignored(step.module):
                kind = self._known(step.node)
                if kind is _UNKNOWN:
                    return step.node
                if kind is not None:
                    self._fail(frame, statement, kind)
                    return None
            frame.step += 1
        self._next_action(frame)
        return None

    def _resume(self, frame: _Frame, kind: FailureKind | None) -> None:
        """The node `frame` waited for finished with `kind`."""
        statement = frame.statements[frame.index]
        if kind is not None:
            self._fail(frame, statement, kind)
        elif isinstance(statement.action, CallAction):
            self._next_action(frame)
        else:
            frame.step += 1

    def _fail(self, frame: _Frame, statement: Statement, kind: FailureKind) -> None:
        """The current action failed: a guard catches it (its handler will run) or it escapes."""
        catcher = catching_block(statement.action.blocks, kind)
        if catcher is None:
            frame.escaped = kind
        else:
            frame.failed.add(catcher.try_line)
            self._next_action(frame)

    @staticmethod
    def _next_action(frame: _Frame) -> None:
        frame.index += 1
        frame.step = 0

    @staticmethod
    def _line(frame: _Frame) -> int:
        statements = frame.statements
        return statements[frame.index].action.line if frame.index < len(statements) else 0


class _Unknown(enum.Enum):
    """Not evaluated yet (a failure of None means it succeeds)."""

    UNKNOWN = enum.auto()


_UNKNOWN: Final = _Unknown.UNKNOWN


def catching_block(blocks: Sequence[Block], kind: FailureKind) -> Block | None:
    """The innermost enclosing guarded part whose handlers catch a failure of `kind`."""
    for block in reversed(blocks):
        if block.role == "body" and kind in block.catches:
            return block
    return None
