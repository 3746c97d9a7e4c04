"""Run the ASGI lifespan protocol on the loaded app: startup, then shutdown, as a server would.

Runs in the app-loading child (asyncio is imported only here, after the app). The app gets
`lifespan.startup`, then `lifespan.shutdown`, over in-memory queues, as uvicorn sends them.
An app that raises or returns before it reads its first message does not support lifespan
(uvicorn's `--lifespan auto` then goes on without it) unless it is a Starlette/FastAPI app,
whose raising there is a real failure (a middleware that cannot be built, say); Django's
ASGIHandler raises on every lifespan scope by design. The parent's
deadline bounds it all: a startup that hangs is killed with the child.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

#: The longest `lifespan.startup.failed` message kept (Starlette sends a whole traceback).
MAX_MESSAGE = 2000
#: How long an app that sent `*.failed` gets to raise its exception (Starlette re-raises).
_RAISE_GRACE_S = 1.0
#: Frameworks that speak lifespan: their raising before reading `lifespan.startup` is a failure.
LIFESPAN_FRAMEWORKS = frozenset({"starlette", "fastapi"})

Describe = Callable[[BaseException], dict[str, Any]]


def run_lifespan(
    app: Any,  # noqa: ANN401 - any ASGI callable
    describe: Describe,
    *,
    framework: str | None,
    on_startup: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The `lifespan` payload; `on_startup` is told the startup's outcome as soon as it is known."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_lifespan(app, describe, framework, on_startup))
    except BaseException as error:  # noqa: BLE001 - SystemExit from an app task escapes the loop
        failed = {"ok": False, "error": describe(error), "message": None}
        return {"supported": True, "startup": failed, "shutdown": None}
    finally:
        loop.close()  # executor threads are not joined: the child exits right after


class _Channel:
    """The receive/send pair handed to the app, and what the app sent back."""

    def __init__(self) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reads = 0

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        return await self.to_app.get()

    async def send(self, message: dict[str, Any]) -> None:
        await self.from_app.put(message)


async def _lifespan(
    app: Any,  # noqa: ANN401 - any ASGI callable
    describe: Describe,
    framework: str | None,
    on_startup: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    channel = _Channel()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}

    async def call() -> BaseException | None:
        try:
            await app(scope, channel.receive, channel.send)
        except BaseException as error:  # noqa: BLE001 - SystemExit in a handler is reported
            return error
        return None

    task = asyncio.ensure_future(call())
    channel.to_app.put_nowait({"type": "lifespan.startup"})
    started = time.perf_counter()
    startup = await _phase(task, channel, "startup", describe)
    startup["ms"] = round((time.perf_counter() - started) * 1000)
    if startup.pop("returned", False) and channel.reads == 0:
        error = startup.get("error")
        if framework not in LIFESPAN_FRAMEWORKS or error is None:
            return {"supported": False, "startup": None, "shutdown": None, "raised": error}
    if on_startup is not None:
        on_startup({"supported": True, "startup": startup, "shutdown": None})
    if not startup["ok"]:
        return {"supported": True, "startup": startup, "shutdown": None}
    channel.to_app.put_nowait({"type": "lifespan.shutdown"})
    started = time.perf_counter()
    shutdown = await _phase(task, channel, "shutdown", describe)
    shutdown.pop("returned", None)
    shutdown["ms"] = round((time.perf_counter() - started) * 1000)
    return {"supported": True, "startup": startup, "shutdown": shutdown}


async def _phase(
    task: asyncio.Future[BaseException | None],
    channel: _Channel,
    phase: str,
    describe: Describe,
) -> dict[str, Any]:
    """Wait for `lifespan.<phase>.complete` / `.failed`, or for the app to return or raise."""
    message_task = asyncio.ensure_future(channel.from_app.get())
    either: set[asyncio.Future[Any]] = {task, message_task}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if message_task.done():
        message = message_task.result()
        kind = message.get("type")
        if kind == f"lifespan.{phase}.complete":
            return {"ok": True, "error": None, "message": None}
        text = message.get("message")
        text = str(text)[-MAX_MESSAGE:] if text else None
        if kind == f"lifespan.{phase}.failed":
            await asyncio.wait({task}, timeout=_RAISE_GRACE_S)
            raised = task.result() if task.done() else None
            error = describe(raised) if raised is not None else None
            return {"ok": False, "error": error, "message": text}
        return {"ok": False, "error": None, "message": f"unexpected ASGI message {kind!r}"}
    message_task.cancel()
    raised = task.result()
    if raised is None:  # the app returned without answering: nothing more will come
        return {"ok": phase == "shutdown", "error": None, "message": None, "returned": True}
    return {"ok": False, "error": describe(raised), "message": None, "returned": True}
