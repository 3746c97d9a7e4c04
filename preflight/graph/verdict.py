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

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from preflight.graph.model import CallAction, ImportAction
from preflight.graph.program import Node, Problem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from preflight.graph.model import Action, Block, FailureKind
    from preflight.graph.program import Program

#: Interpreter frames one nested import costs (importlib's bootstrap frames plus the module's
#: own); measured on CPython 3.11: 133 nested imports fit a limit of 1000, 275 one of 2000.
FRAMES_PER_IMPORT = 7
#: Frames a server uses before it imports the app (uvicorn's or gunicorn's own call stack).
SERVER_FRAMES = 30


@dataclass
class _Frame:
    """One node being run: where in its actions it is, and which guards have failed."""

    node: Node
    actions: tuple[Action, ...]
    frames: int
    index: int = 0
    steps: tuple[Problem | str, ...] | None = None
    step: int = 0
    failed: set[int] = field(default_factory=set)
    escaped: FailureKind | None = None
    done: bool = False


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
        frame = _Frame(node, self._program.actions(node), frames)
        scan = self._program.scan(node.module)
        if node.function is None and scan is not None and scan.syntax_error is not None:
            frame.escaped = "syntax_error"
        return frame

    def _close(self, frame: _Frame, kind: FailureKind | None) -> None:
        self._in_progress.discard(frame.node)
        self._failures[frame.node] = kind
        self._failed_guards[frame.node] = frozenset(frame.failed)

    def _known(self, node: Node) -> tuple[bool, FailureKind | None]:
        """(known, failure): memoized, or being run further up (a cycle: it succeeds)."""
        if node in self._failures:
            return True, self._failures[node]
        return (node in self._in_progress), None

    def _advance(self, frame: _Frame) -> Node | _Finished:
        """Run `frame` until it needs a node evaluated first, or until it is finished."""
        while frame.escaped is None and frame.index < len(frame.actions):
            action = frame.actions[frame.index]
            dead = isinstance(action, ImportAction) and action.type_checking
            if (
                dead
                or not runs(action.blocks, frame.failed)
                or not self._program.live(frame.node.module, action)
            ):
                self._next_action(frame)
                continue
            needed = (
                self._advance_call(frame, action)
                if isinstance(action, CallAction)
                else self._advance_import(frame, action)
            )
            if needed is not None:
                return needed
        return _Finished(frame.escaped)

    def _advance_call(self, frame: _Frame, action: CallAction) -> Node | None:
        if frame.steps is None:
            frame.steps = ()  # marks the call as started
            callee = self._program.resolve_call(frame.node, action.target)
            if callee is not None:
                known, kind = self._known(callee)
                if not known:
                    return callee
                if kind is not None:
                    self._fail(frame, action.blocks, kind)
                    return None
        self._next_action(frame)
        return None

    def _advance_import(self, frame: _Frame, action: ImportAction) -> Node | None:
        if frame.steps is None:
            frame.steps = self._program.steps(frame.node.module, action)
            frame.step = 0
        while frame.step < len(frame.steps):
            step = frame.steps[frame.step]
            if isinstance(step, Problem):
                if not self._ignored(step.module):
                    self._fail(frame, action.blocks, step.kind)
                    return None
            elif self._program.is_first_party(step) and not self._ignored(step):
                known, kind = self._known(Node(step))
                if not known:
                    return Node(step)
                if kind is not None:
                    self._fail(frame, action.blocks, kind)
                    return None
            frame.step += 1
        self._next_action(frame)
        return None

    def _resume(self, frame: _Frame, kind: FailureKind | None) -> None:
        """The node `frame` waited for finished with `kind`."""
        action = frame.actions[frame.index]
        if kind is not None:
            self._fail(frame, action.blocks, kind)
        elif isinstance(action, CallAction):
            self._next_action(frame)
        else:
            frame.step += 1

    def _fail(self, frame: _Frame, blocks: Sequence[Block], kind: FailureKind) -> None:
        """The current action failed: a guard catches it (its handler will run) or it escapes."""
        catcher = catching_block(blocks, kind)
        if catcher is None:
            frame.escaped = kind
        else:
            frame.failed.add(catcher.try_line)
            self._next_action(frame)

    @staticmethod
    def _next_action(frame: _Frame) -> None:
        frame.index += 1
        frame.steps = None
        frame.step = 0

    @staticmethod
    def _line(frame: _Frame) -> int:
        return frame.actions[frame.index].line if frame.index < len(frame.actions) else 0


def runs(blocks: Sequence[Block], failed_guards: set[int] | frozenset[int]) -> bool:
    """An action in a handler runs only when that `try`'s guarded part failed."""
    return all(block.try_line in failed_guards for block in blocks if block.role == "handler")


def catching_block(blocks: Sequence[Block], kind: FailureKind) -> Block | None:
    """The innermost enclosing guarded part whose handlers catch a failure of `kind`."""
    for block in reversed(blocks):
        if block.role == "body" and kind in block.catches:
            return block
    return None


def caught_here(blocks: Sequence[Block]) -> frozenset[FailureKind]:
    """Every failure some enclosing guarded part catches."""
    caught: frozenset[FailureKind] = frozenset()
    for block in blocks:
        if block.role == "body":
            caught |= block.catches
    return caught
