"""The driver that runs inside the app-loading child: the planned stages, one JSON line each.

Started by `preflight.appload.session` as `python -X importtime -c BOOTSTRAP PLAN FD DIR`. It uses
only the standard library until it imports the app; the probes (settings, middleware,
lifespan) are imported when their stage runs. Reports go to the pipe `FD`, never to stdout
or stderr (the app's); stderr carries only the markers that bracket the import-time profile.
The child ends with `os._exit`, so threads the app started cannot hold it open.

Pipe messages, one JSON object per line: `{"start": stage}` when a stage begins,
`{"stage": stage, "payload": {...}}` when it ends, `{"partial": stage, "payload": {...}}`
for progress (lifespan startup done), `{"skipped": stage}`, and `{"done": true}` last.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from preflight.appload.importtime import END_MARKER, START_MARKER

if TYPE_CHECKING:
    from preflight.appload.excinfo import Describer

#: The command the parent runs, with `PLAN FD PACKAGE_DIR`: load preflight from its own
#: directory, never through `sys.path` (a project's own `preflight.py` or `preflight/` in the
#: working directory or on PYTHONPATH would be found first), then hand the driver the plan.
BOOTSTRAP = """\
import sys, importlib.util as _u
_s = _u.spec_from_file_location(
    "preflight", sys.argv[3] + "/__init__.py", submodule_search_locations=[sys.argv[3]]
)
_m = _u.module_from_spec(_s); sys.modules["preflight"] = _m; _s.loader.exec_module(_m)
del _u, _s, _m
from preflight.appload.child import main
main(sys.argv[1:3])
"""
#: The directory of the preflight package, passed to BOOTSTRAP.
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


class Reporter:
    """Writes the pipe messages (whole lines, one write each)."""

    def __init__(self, fd: int) -> None:
        """Report on `fd`, which the app's own subprocesses must not inherit."""
        self.fd = fd
        os.set_inheritable(fd, False)  # noqa: FBT003 - the os API's spelling

    def send(self, message: dict[str, Any]) -> None:
        """One JSON line; a closed pipe (the parent gave up) is ignored."""
        data = (json.dumps(message, default=repr, separators=(",", ":")) + "\n").encode()
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:
            pass


def main(argv: list[str]) -> NoReturn:
    """Run the plan `argv[0]` (JSON), reporting on fd `argv[1]`, then exit at once."""
    plan = json.loads(argv[0])
    reporter = Reporter(int(argv[1]))
    del sys.argv[1:]  # the app sees a plain interpreter's argv, not preflight's plan
    sys.path[:0] = list(plan.get("roots") or [])
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    code = 0
    try:
        run(plan, reporter)
        reporter.send({"done": True})
    except BaseException:  # noqa: BLE001 - a bug here must still end the child cleanly
        code = 70
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed stream must not keep the child alive
            stream.flush()
    os._exit(code)


def run(plan: dict[str, Any], reporter: Reporter) -> None:
    """The stages in order: settings, import, app, middleware, lifespan."""
    from preflight.appload.excinfo import Describer  # noqa: PLC0415 - standard library only

    describe = Describer(plan.get("roots") or [], _settings_errors_reader())
    profiling = False
    if plan.get("settings_class"):
        _marker(START_MARKER)
        profiling = True
        reporter.send({"start": "settings"})
        reporter.send({"stage": "settings", "payload": settings_stage(plan, describe)})
    if not plan.get("app"):
        if profiling:
            _marker(END_MARKER)
        return
    module_name, _, attr = str(plan["app"]).partition(":")
    if not profiling:
        _marker(START_MARKER)
    reporter.send({"start": "import"})
    module, payload = import_stage(module_name, describe)
    reporter.send({"stage": "import", "payload": payload})
    app = None
    if module is not None:
        from preflight.appload.appobject import load_app  # noqa: PLC0415

        reporter.send({"start": "app"})
        app, payload = load_app(module, attr or "app", describe)
        reporter.send({"stage": "app", "payload": payload})
    else:
        reporter.send({"skipped": "app"})
    _marker(END_MARKER)
    framework = payload.get("framework") if app is not None else None
    if plan.get("middleware"):
        if app is None:
            reporter.send({"skipped": "middleware"})
        else:
            reporter.send({"start": "middleware"})
            reporter.send({"stage": "middleware", "payload": middleware_stage(app, plan)})
    if plan.get("lifespan"):
        if app is None:
            reporter.send({"skipped": "lifespan"})
        else:
            reporter.send({"start": "lifespan"})
            payload = lifespan_stage(app, payload, describe, framework, reporter)
            reporter.send({"stage": "lifespan", "payload": payload})


def settings_stage(plan: dict[str, Any], describe: Describer) -> dict[str, Any]:
    """The settings probe's payload (a minimal one while the probe is not there)."""
    spec = str(plan["settings_class"])
    try:
        from preflight.appload.settings_probe import describe_settings  # noqa: PLC0415
    except ImportError:
        return {"class": spec, "ok": False, "errors": [], "load_error": None, "probe": "missing"}
    try:
        return describe_settings(spec, describe)
    except BaseException as error:  # noqa: BLE001 - the probe must not take the child down
        load_error = {"kind": "raised", "error": describe(error), "candidates": []}
        return {"class": spec, "ok": False, "errors": [], "load_error": load_error}


def import_stage(module_name: str, describe: Describer) -> tuple[object | None, dict[str, Any]]:
    """Import the entry module: (module or None, the `import` payload)."""
    started = time.perf_counter()
    try:
        # As the import statement does, so `-X importtime` times the entry module itself
        # (importlib.import_module bypasses that hook: only the modules it imports would count).
        __import__(module_name)
        module = sys.modules[module_name]
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        seconds = round(time.perf_counter() - started, 4)
        return None, {"ok": False, "seconds": seconds, "error": describe(error)}
    seconds = round(time.perf_counter() - started, 4)
    return module, {"ok": True, "seconds": seconds, "error": None}


def middleware_stage(app: object, plan: dict[str, Any]) -> dict[str, Any]:
    """The middleware probe's payload; its absence or failure is a reason, not a crash."""
    empty: dict[str, Any] = {"framework": None, "stack": [], "mounts": []}
    try:
        from preflight.appload.middleware_probe import describe_middleware  # noqa: PLC0415
    except ImportError:
        return {**empty, "reason": "the middleware probe is not available"}
    try:
        return describe_middleware(app, django_settings=plan.get("django_settings"))
    except BaseException as error:  # noqa: BLE001 - reading the stack must not end the child
        return {**empty, "reason": f"reading the stack raised {type(error).__name__}"}


def lifespan_stage(
    app: object,
    app_payload: dict[str, Any],
    describe: Describer,
    framework: str | None,
    reporter: Reporter,
) -> dict[str, Any]:
    """Startup then shutdown; a WSGI app has no lifespan."""
    if app_payload.get("kind") != "asgi":
        return {"supported": False, "startup": None, "shutdown": None, "reason": "wsgi"}
    from preflight.appload.lifespan_probe import run_lifespan  # noqa: PLC0415 - asyncio

    return run_lifespan(
        app,
        describe,
        framework=framework,
        on_startup=lambda partial: reporter.send({"partial": "lifespan", "payload": partial}),
    )


def _settings_errors_reader() -> Any:  # noqa: ANN401 - the probe's function, or None
    try:
        from preflight.appload.settings_probe import settings_errors  # noqa: PLC0415
    except ImportError:
        return None
    return settings_errors


def _marker(text: str) -> None:
    """A marker line on fd 2, in order with the interpreter's own import-time lines."""
    try:
        sys.stderr.flush()
        os.write(2, (text + "\n").encode())
    except OSError:
        pass
