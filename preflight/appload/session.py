"""The parent side of the app-loading child: one child per run, its stages as awaitables.

`app_session(ctx)` starts the run's one child on first use (shared through `ctx.shared`),
and each check awaits its own stage. The child runs in a session of its own (its own process
group): at `KILL_MARGIN_S` before the deadline the whole group is SIGKILLed (a child that
ignores SIGTERM, or a worker it forked, dies all the same), so the checks can still report the
hang; when an awaiting check is cancelled (the runner's deadline, SIGINT/SIGTERM) the group
is killed at once, synchronously. No child outlives preflight.

The child's stdout and stderr (the app's own output) are read into a bounded tail; its
`-X importtime` lines between the child's markers become the import-time profile. Every text
from the child is redacted of the environment's values before a check sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from preflight.appload.child import BOOTSTRAP, PACKAGE_DIR
from preflight.appload.importtime import ImportProfile, ImportTimeFilter
from preflight.secrets import redact_environ

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from preflight.checks.base import CheckContext
    from preflight.clock import Deadline
    from preflight.config import Config

T = TypeVar("T")

#: The stages the child reports, in the order it runs them.
STAGES: tuple[str, ...] = ("settings", "import", "app", "middleware", "lifespan")
#: Checks that need the app imported in the child.
APP_CHECKS = frozenset({"app", "middleware", "lifespan"})
#: The child is killed this long before the deadline, so the checks can still report it.
KILL_MARGIN_S = 0.15
#: The output tail attached to failures: at most this many lines and bytes.
TAIL_LINES = 20
TAIL_BYTES = 2048
#: A line of output longer than this is cut (an app may print megabytes without a newline).
MAX_LINE = 4096
#: Kept past MAX_LINE until the line is redacted, so a secret straddling the cut is whole.
_CUT_SLACK = 1024
#: After the child ends, how long its pipes may take to drain (a grandchild that left the
#: process group may hold them open).
DRAIN_S = 0.5
#: Key of the session in `CheckContext.shared`.
SHARED_KEY = "appload.session"
#: Variables naming a module the child reports by name (frames, chains): never redacted, or
#: a Django settings module that raises would show as `***` in its own finding.
MODULE_VARIABLES = frozenset({"DJANGO_SETTINGS_MODULE"})


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What the child must do in this run (from the selected checks and the configuration)."""

    app: str | None
    """The entry, `module:attr` or `module:factory()`; None: the app is not imported."""
    settings_class: str | None
    """`module:Class`, instantiated in the child first; None: no settings stage."""
    middleware: bool
    """Read the loaded app's middleware stack."""
    django_settings: str | None
    """Django settings module to read `MIDDLEWARE` from (else `DJANGO_SETTINGS_MODULE`)."""
    lifespan: bool
    """Run the ASGI lifespan startup and shutdown on the loaded app."""
    roots: tuple[str, ...] = ()
    """Source roots, put first on the child's `sys.path` (and what "first-party" means)."""

    @classmethod
    def for_config(cls, config: Config) -> LoadPlan:
        """The plan for the checks `config` selects."""
        selected = set(config.selected_checks())
        app = config.app if selected & APP_CHECKS else None
        return cls(
            app=app,
            settings_class=config.settings.class_ if "settings" in selected else None,
            middleware=app is not None and "middleware" in selected,
            django_settings=config.middleware.django_settings,
            lifespan=app is not None and "lifespan" in selected,
            roots=tuple(str(root) for root in config.roots),
        )

    def planned(self) -> tuple[str, ...]:
        """The stages this plan runs, in order."""
        wanted = {
            "settings": self.settings_class is not None,
            "import": self.app is not None,
            "app": self.app is not None,
            "middleware": self.middleware,
            "lifespan": self.lifespan,
        }
        return tuple(stage for stage in STAGES if wanted[stage])

    def to_json(self) -> str:
        """The plan as the child reads it."""
        return json.dumps(
            {
                "app": self.app,
                "settings_class": self.settings_class,
                "middleware": self.middleware,
                "django_settings": self.django_settings,
                "lifespan": self.lifespan,
                "roots": list(self.roots),
            }
        )


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage's report from the child, or why there is none."""

    name: str
    payload: Mapping[str, Any] | None
    """The child's JSON object for this stage; None when the child never reported it."""
    missing: str | None = None
    """Why there is no payload: `not planned`, `deadline`, `exited`, `crashed`, `skipped`."""
    partial: Mapping[str, Any] | None = None
    """Progress the child reported before it was cut off (lifespan: the startup's outcome)."""


@dataclass(frozen=True, slots=True)
class ChildEnd:
    """How the child ended."""

    returncode: int | None
    killed_at_deadline: bool
    stage: str | None
    """The stage that was running when the child ended (None if it finished all)."""
    output_tail: str
    """The last lines of the child's stdout and stderr (import-time lines removed, masked)."""
    start_error: str | None = None
    """Why the child could not be started at all (None when it started)."""
    profile: ImportProfile | None = None
    """The import-time profile of the app's import (None when nothing was profiled)."""


@dataclass(slots=True)
class _Tail:
    """The last lines of the child's output, bounded; cut only after redaction.

    Cutting first would leave the part of a secret on the far side of the cut unrecognised,
    and shown.
    """

    lines: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def add(self, line: str) -> None:
        self.lines.append(line.rstrip("\r\n"))

    def text(self, redact: Callable[[str], str]) -> str:
        shown = []
        for line in self.lines:
            text = redact(line)
            shown.append(text[:MAX_LINE] + "…" if len(text) > MAX_LINE else text)
        joined = "\n".join(shown)
        if len(joined.encode()) > TAIL_BYTES:
            joined = "…" + joined.encode()[-TAIL_BYTES:].decode(errors="ignore")
        return joined


class _Child:
    """One running child: its process, what it reported, and how it ended."""

    def __init__(self, plan: LoadPlan, environ: Mapping[str, str], deadline: Deadline) -> None:
        self.plan = plan
        self.environ = environ
        self.secrets = {k: v for k, v in environ.items() if k not in MODULE_VARIABLES}
        self.deadline = deadline
        loop = asyncio.get_running_loop()
        planned = plan.planned()
        self.stages: dict[str, asyncio.Future[Stage]] = {}
        for name in STAGES:
            self.stages[name] = loop.create_future()
            if name not in planned:
                self.stages[name].set_result(Stage(name, None, "not planned"))
        self.partials: dict[str, Mapping[str, Any]] = {}
        self.profile_ready: asyncio.Future[ImportProfile | None] = loop.create_future()
        self.ended: asyncio.Future[ChildEnd] = loop.create_future()
        self.current: str | None = None
        self.done = False
        self.process: asyncio.subprocess.Process | None = None
        self.killed_at_deadline = False
        self.tail = _Tail()
        self.stderr = ImportTimeFilter()
        self.supervisor: asyncio.Task[None] | None = None

    # --- starting ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the child and supervise it in the background.

        Its stdout and stderr are pipes of ours, not asyncio's PIPE: the subprocess transport
        would not report the exit (`Process.wait()`) until every holder of those pipes closed
        them, and a process the app started in a session of its own may hold them for hours.
        """
        (messages, message_w), (stdout, stdout_w), (stderr, stderr_w) = (
            os.pipe(),
            os.pipe(),
            os.pipe(),
        )
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-X",
                "importtime",
                "-c",
                BOOTSTRAP,
                self.plan.to_json(),
                str(message_w),
                PACKAGE_DIR,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stdout_w,
                stderr=stderr_w,
                env=dict(self.environ),
                pass_fds=(message_w,),
                start_new_session=True,
            )
        except (OSError, ValueError) as error:
            for fd in (messages, stdout, stderr):
                os.close(fd)
            self._finish(start_error=f"{type(error).__name__}: {error}")
            return
        finally:
            for fd in (message_w, stdout_w, stderr_w):
                os.close(fd)
        self.supervisor = asyncio.ensure_future(self._supervise(messages, stdout, stderr))

    # --- killing ----------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the child's whole process group, now (safe to call at any time)."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    # --- supervising ------------------------------------------------------------------------

    async def _supervise(self, messages: int, stdout: int, stderr: int) -> None:
        process = self.process
        if process is None:
            return
        readers = [
            asyncio.ensure_future(self._read_messages(messages)),
            asyncio.ensure_future(self._read_output(stdout, self._stdout_line)),
            asyncio.ensure_future(self._read_output(stderr, self._stderr_line)),
        ]
        try:
            waiting = asyncio.ensure_future(process.wait())
            timer = asyncio.ensure_future(
                self.deadline.clock.sleep(max(0.0, self.deadline.remaining() - KILL_MARGIN_S))
            )
            await asyncio.wait({waiting, timer}, return_when=asyncio.FIRST_COMPLETED)
            timer.cancel()
            if not waiting.done():
                self.killed_at_deadline = True
                self.kill()
                await waiting
            self.kill()  # whatever the app left behind in its group
            # A process that left the group (setsid) may hold the pipes open: drain no longer
            # than DRAIN_S, and never into the margin the checks need to report the end.
            drain = min(DRAIN_S, max(0.0, self.deadline.remaining() - KILL_MARGIN_S / 2))
            _, stuck = await asyncio.wait(readers, timeout=drain)
            for reader in stuck:
                reader.cancel()
        finally:
            self.kill()
            for reader in readers:
                reader.cancel()
            self._finish(returncode=process.returncode)

    async def _read_messages(self, read_fd: int) -> None:
        reader, transport = await _open_pipe(read_fd, limit=64 * 1024 * 1024)
        try:
            while line := await reader.readline():
                self._message(line)
        except (ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            transport.close()

    def _message(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "start" in message:
            self.current = str(message["start"])
        elif "stage" in message:
            payload = message.get("payload")
            name = str(message["stage"])
            self._resolve(name, Stage(name, self._redacted(payload), None))
            if self.current == name:
                self.current = None
        elif "partial" in message:
            self.partials[str(message["partial"])] = self._redacted(message.get("payload"))
        elif "skipped" in message:
            name = str(message["skipped"])
            self._resolve(name, Stage(name, None, "skipped"))
        elif message.get("done"):
            self.done = True

    async def _read_output(self, read_fd: int, take: Callable[[str], None]) -> None:
        stream, transport = await _open_pipe(read_fd)
        pending = b""
        skipping = False  # inside a line already cut: its rest is dropped up to its newline
        try:
            while chunk := await stream.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                if skipping and lines:
                    lines, skipping = lines[1:], False
                for line in lines:
                    take(line.decode(errors="replace"))
                if skipping:
                    pending = b""
                elif len(pending) > MAX_LINE + _CUT_SLACK:
                    take(pending[: MAX_LINE + _CUT_SLACK].decode(errors="replace") + "…")
                    pending, skipping = b"", True
            if pending:
                take(pending.decode(errors="replace"))
        finally:
            transport.close()

    def _stdout_line(self, line: str) -> None:
        self.tail.add(line)

    def _stderr_line(self, line: str) -> None:
        if self.stderr.feed(line):
            self.tail.add(line)
        elif self.stderr.finished:
            self._profile_done()

    def _profile_done(self) -> None:
        if not self.profile_ready.done():
            self.profile_ready.set_result(self.stderr.profile if self.stderr.started else None)

    # --- ending -----------------------------------------------------------------------------

    def _resolve(self, name: str, stage: Stage) -> None:
        future = self.stages.get(name)
        if future is not None and not future.done():
            future.set_result(stage)

    def _finish(self, returncode: int | None = None, start_error: str | None = None) -> None:
        if self.ended.done():
            return
        if start_error is not None:
            missing = "crashed"
        elif self.killed_at_deadline:
            missing = "deadline"
        elif self.done:
            missing = "skipped"
        elif returncode is not None and returncode < 0:
            missing = "crashed"
        else:
            missing = "exited"
        for name, future in self.stages.items():
            if not future.done():
                future.set_result(Stage(name, None, missing, self.partials.get(name)))
        profile = self.stderr.profile if self.stderr.started else None
        if not self.profile_ready.done():
            self.profile_ready.set_result(profile)
        self.ended.set_result(
            ChildEnd(
                returncode=returncode,
                killed_at_deadline=self.killed_at_deadline,
                stage=None if self.done else self.current,
                output_tail=self.tail.text(self._redacted),
                start_error=start_error,
                profile=profile,
            )
        )

    def _redacted(self, value: Any) -> Any:  # noqa: ANN401 - JSON values
        """Every string in a JSON value, redacted of the environment's values."""
        if isinstance(value, str):
            return redact_environ(value, self.secrets)
        if isinstance(value, list):
            return [self._redacted(item) for item in value]
        if isinstance(value, dict):
            return {key: self._redacted(item) for key, item in value.items()}
        return value


async def _open_pipe(
    read_fd: int, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.ReadTransport]:
    """A stream on the read end of one of the child's pipes (the fd is owned from here on)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit)
    pipe = os.fdopen(read_fd, "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader, transport


class AppSession:
    """The run's one child; each check awaits its own stage."""

    def __init__(self, started: asyncio.Task[_Child]) -> None:
        """A handle on the shared task that starts the child."""
        self._started = started

    async def _await(self, pick: Callable[[_Child], asyncio.Future[T]]) -> T:
        """Await one of the child's futures; a cancelled waiter kills the child at once."""
        try:
            child = await asyncio.shield(self._started)
            return await asyncio.shield(pick(child))
        except asyncio.CancelledError:
            self.kill()
            raise

    def kill(self) -> None:
        """Kill the child's process group now (the awaiting check was cancelled)."""
        if self._started.done() and not self._started.cancelled():
            self._started.result().kill()
        else:
            self._started.add_done_callback(
                lambda task: None if task.cancelled() else task.result().kill()
            )

    async def stage(self, name: str) -> Stage:
        """The report of stage `name`, as soon as the child sends it (or ends without it)."""
        if name not in STAGES:
            msg = f"unknown stage {name!r}; stages: {', '.join(STAGES)}"
            raise ValueError(msg)
        return await self._await(lambda child: child.stages[name])

    async def profile(self) -> ImportProfile | None:
        """The app import's import-time profile, once the import and app stages are over."""
        return await self._await(lambda child: child.profile_ready)

    async def end(self) -> ChildEnd:
        """Wait for the child to end (it is killed at the deadline)."""
        return await self._await(lambda child: child.ended)

    @property
    def plan(self) -> LoadPlan | None:
        """The plan the child runs (None until it started)."""
        if self._started.done() and not self._started.cancelled():
            return self._started.result().plan
        return None


def app_session(ctx: CheckContext) -> AppSession:
    """The run's one child, started on the first call and shared through `ctx.shared`."""

    async def start() -> _Child:
        child = _Child(LoadPlan.for_config(ctx.config), ctx.environ, ctx.deadline)
        await child.start()
        return child

    return AppSession(ctx.shared(SHARED_KEY, start))
