"""Child side of the middleware check: read the real stack of the loaded app, outermost first.

Runs inside the app's interpreter after the app is loaded. Starlette/FastAPI: `app.user_middleware`
(index 0 is the outermost: the LAST `add_middleware` call), plus layers wrapped around the app
object itself, plus each mounted sub-app's stack. Django: `settings.MIDDLEWARE` read from the
settings module (first is outermost). Only class names, paths, MRO, dispatch functions and
source locations are sent: never a middleware's arguments (a SessionMiddleware's secret key).
It imports starlette/django only inside its functions and never raises.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
import textwrap
import typing
from typing import Any

from preflight.appload.settings_probe import relative_to_path

#: How many wrapper layers and nested mounts are followed.
_MAX_DEPTH = 20
#: Receivers of `.session` that are requests/connections in middleware code.
_REQUEST_NAMES = frozenset({"request", "req", "conn", "connection", "websocket", "ws"})
#: Packages whose classes are not read for session access (their own sources are known).
_LIBRARY_PREFIXES = ("starlette.", "fastapi.", "django.", "builtins.")


def describe_middleware(app: object, django_settings: str | None = None) -> dict[str, Any]:
    """The whole `middleware` payload for the loaded `app`; never raises.

    `django_settings` names the Django settings module (else `DJANGO_SETTINGS_MODULE`).
    """
    try:
        return _describe(app, django_settings)
    except BaseException as error:  # noqa: BLE001 - the probe must never raise
        return _unreadable(None, f"reading the middleware failed: {type(error).__name__}")


def _unreadable(framework: str | None, reason: str) -> dict[str, Any]:
    return {"framework": framework, "stack": [], "mounts": [], "reason": reason}


def _describe(app: object, django_settings: str | None) -> dict[str, Any]:
    starlette = _starlette_class()
    wrappers: list[dict[str, Any]] = []
    inner = app
    for _ in range(_MAX_DEPTH):
        if starlette is not None and isinstance(inner, starlette):
            break
        nested = getattr(inner, "app", None)
        if nested is None or not callable(nested) or _is_django_handler(inner):
            break
        wrappers.append(entry_for_layer(inner))
        inner = nested
    if starlette is not None and isinstance(inner, starlette):
        for wrapper in wrappers:
            wrapper["layer"] = "wrapper"
        return {
            "framework": "starlette",
            "stack": wrappers + starlette_stack(inner),
            "mounts": mounts_of(inner),
            "reason": None,
        }
    settings_module = django_settings or os.environ.get("DJANGO_SETTINGS_MODULE")
    if settings_module and (
        django_settings or _is_django_handler(inner) or "django" in sys.modules
    ):
        return django_payload(settings_module)
    kind = f"{type(app).__module__}.{type(app).__qualname__}"
    reason = f"not a Starlette/FastAPI app or a Django project (the app is a {kind})"
    if _is_django_handler(inner):
        reason = "a Django app, but no settings module: set DJANGO_SETTINGS_MODULE"
        reason += " or [tool.preflight.middleware] django_settings"
    return _unreadable("django" if _is_django_handler(inner) else None, reason)


def _starlette_class() -> type | None:
    if "starlette" not in sys.modules:  # the app did not load starlette: it is no Starlette app
        return None
    try:
        from starlette.applications import Starlette  # noqa: PLC0415 - the app has loaded it
    except Exception:  # noqa: BLE001 - a broken install: treat as absent
        return None
    return Starlette


def _is_django_handler(app: object) -> bool:
    return type(app).__module__.startswith("django.core.handlers")


# --- Starlette / FastAPI ------------------------------------------------------------------------


def starlette_stack(app: object) -> list[dict[str, Any]]:
    """`app.user_middleware` as entries, outermost first (as Starlette lists it)."""
    return [entry_for_spec(spec) for spec in getattr(app, "user_middleware", None) or []]


def entry_for_spec(spec: object) -> dict[str, Any]:
    """One `Middleware(cls, *args, **kwargs)` (or an older `(cls, options)` form)."""
    cls = getattr(spec, "cls", None)
    args = getattr(spec, "args", ())
    kwargs = getattr(spec, "kwargs", None)
    if kwargs is None:
        kwargs = getattr(spec, "options", None) or {}
    if cls is None and isinstance(spec, tuple) and spec:
        cls = spec[0]
    dispatch = kwargs.get("dispatch") if isinstance(kwargs, dict) else None
    if dispatch is None and args and callable(args[0]) and _is_base_http(cls):
        dispatch = args[0]
    if isinstance(cls, str):
        return _entry_for_string(cls)
    return entry(cls, dispatch)


def entry_for_layer(layer: object) -> dict[str, Any]:
    """A middleware instance wrapped around an app (a wrapper, or a Mount's middleware)."""
    dispatch = getattr(layer, "dispatch_func", None)
    own = getattr(layer, "dispatch", None)
    if (
        dispatch is not None
        and own is not None
        and getattr(dispatch, "__func__", None) is getattr(own, "__func__", object())
    ):
        dispatch = None  # a subclass overriding dispatch(), not BaseHTTPMiddleware(dispatch=f)
    return entry(type(layer), dispatch)


def _is_base_http(cls: object) -> bool:
    return isinstance(cls, type) and any(c.__name__ == "BaseHTTPMiddleware" for c in cls.__mro__)


def _entry_for_string(text: str) -> dict[str, Any]:
    """Middleware named by an import string: resolved when it imports, else shown as written."""
    module_name, _, attr = text.replace(":", ".").rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except BaseException:  # noqa: BLE001 - an unresolvable name is reported as written
        return {
            "name": attr or text,
            "path": text,
            "mro": [text],
            "dispatch": None,
            "reads_session": False,
            "file": None,
            "line": None,
            "resolved": False,
        }
    return entry(found, None)


def entry(cls: object, dispatch: object = None) -> dict[str, Any]:
    """A MiddlewareEntry for a class (or factory function) and its dispatch function."""
    name = str(getattr(cls, "__name__", type(cls).__name__))
    path = _dotted(cls)
    mro = [_dotted(c) for c in getattr(cls, "__mro__", (cls,)) if c is not object]
    where = _where(dispatch if dispatch is not None else cls)
    return {
        "name": name,
        "path": path,
        "mro": mro,
        "dispatch": _dispatch_name(dispatch),
        "dispatch_path": _dotted(dispatch) if dispatch is not None else None,
        "reads_session": reads_session(cls, dispatch),
        **where,
    }


def _dispatch_name(dispatch: object) -> str | None:
    if dispatch is None:
        return None
    return str(getattr(dispatch, "__name__", type(dispatch).__name__))


def mounts_of(app: object, prefix: str = "", depth: int = 0) -> list[dict[str, Any]]:
    """Sub-apps mounted on `app` (`app.mount`, `Mount`/`Host` routes), with their own stacks.

    A sub-app's stack is the Mount's own `middleware=[...]` (outermost) and then the sub-app's
    `user_middleware`. Mounts whose app has no middleware and is no Starlette app (static
    files) are left out.
    """
    if depth > _MAX_DEPTH:
        return []
    starlette = _starlette_class()
    out: list[dict[str, Any]] = []
    for route in getattr(app, "routes", None) or []:
        base = getattr(route, "_base_app", None) or getattr(route, "app", None)
        layer = getattr(route, "app", None)
        if base is None or type(route).__name__ not in {"Mount", "Host"}:
            continue
        path = prefix + (getattr(route, "path", "") or "")
        stack: list[dict[str, Any]] = []
        for _ in range(_MAX_DEPTH):
            if layer is None or layer is base:
                break
            stack.append(entry_for_layer(layer))
            layer = getattr(layer, "app", None)
        is_app = starlette is not None and isinstance(base, starlette)
        if is_app:
            stack += starlette_stack(base)
        if is_app or stack:
            out.append({"path": path or "/", "stack": stack})
        out += mounts_of(base, path, depth + 1)
    return out


# --- Django ---------------------------------------------------------------------------------


def django_payload(settings_module: str) -> dict[str, Any]:
    """`MIDDLEWARE` of a Django settings module, read by importing the module (no setup())."""
    try:
        module = importlib.import_module(settings_module)
    except BaseException as error:  # noqa: BLE001 - a settings module may raise anything
        reason = f"the Django settings module {settings_module!r} cannot be imported"
        return _unreadable("django", f"{reason}: {type(error).__name__}")
    names = getattr(module, "MIDDLEWARE", [])
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return _unreadable("django", f"{settings_module}.MIDDLEWARE is not a list of strings")
    listed = listed_at(module)
    return {
        "framework": "django",
        "stack": [django_entry(name, listed.get(name)) for name in names],
        "mounts": [],
        "reason": None,
    }


def listed_at(module: object) -> dict[str, dict[str, Any]]:
    """Where the settings module writes each string of its `MIDDLEWARE` (file and line).

    A Django ordering is fixed in that list, not in Django's own classes: that is where a
    finding points. Empty when the list is built elsewhere (`from .base import *`).
    """
    try:
        file = inspect.getsourcefile(typing.cast("Any", module))
        tree = ast.parse(inspect.getsource(typing.cast("Any", module)))
    except Exception:  # noqa: BLE001 - no source: the classes' own locations are used
        return {}
    where: dict[str, dict[str, Any]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        else:
            continue
        if node.value is None or not any(
            isinstance(t, ast.Name) and t.id == "MIDDLEWARE" for t in targets
        ):
            continue
        for item in ast.walk(node.value):
            if isinstance(item, ast.Constant) and isinstance(item.value, str) and file:
                where.setdefault(item.value, {"file": relative_to_path(file), "line": item.lineno})
    return where


def django_entry(dotted: str, listed: dict[str, Any] | None = None) -> dict[str, Any]:
    """One `MIDDLEWARE` string: the class's MRO when it imports, else the string alone.

    `listed`: where the settings module lists it (the location findings show), else the
    class's own.
    """
    module_name, _, attr = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except BaseException:  # noqa: BLE001 - many need django.setup(): fall back to the name
        cls = None
    found = entry(cls) if cls is not None else {}
    where = listed or found
    return {
        "name": attr or dotted,
        "path": dotted,
        "mro": _unique([dotted, *found.get("mro", [])]),
        "dispatch": None,
        "dispatch_path": None,
        "reads_session": bool(found.get("reads_session", False)),
        "file": where.get("file"),
        "line": where.get("line"),
    }


# --- session readers ---------------------------------------------------------------------------


def reads_session(cls: object, dispatch: object = None) -> bool:
    """Whether the middleware's own code reads the session.

    Reads the source of its dispatch function, or of every class in its MRO outside
    Starlette/FastAPI/Django, for `request.session`, `scope["session"]`, `scope.get("session")`
    or `"session" in scope` (docstrings and comments do not count). A SessionMiddleware (or
    a subclass) provides the session, so it is never a reader.
    """
    if any(getattr(c, "__name__", "") == "SessionMiddleware" for c in _mro(cls)):
        return False
    sources = [dispatch] if dispatch is not None else []
    sources += [c for c in _mro(cls) if not _dotted(c).startswith(_LIBRARY_PREFIXES)]
    return any(_source_reads_session(obj) for obj in sources)


def _mro(cls: object) -> list[object]:
    return [c for c in getattr(cls, "__mro__", (cls,)) if c is not object]


def _source_reads_session(obj: object) -> bool:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(typing.cast("Any", obj))))
    except Exception:  # noqa: BLE001 - no source (C, REPL), or it does not parse: unknown
        return False
    return any(_is_session_read(node) for node in ast.walk(tree))


def _is_session_read(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "session":
        receiver = node.value
        if isinstance(receiver, ast.Name):
            return receiver.id in _REQUEST_NAMES
        return isinstance(receiver, ast.Call)  # Request(scope).session
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        return _is_scope(node.value) and _is_session_key(node.slice)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        get = node.func.attr == "get" and _is_scope(node.func.value)
        return get and bool(node.args) and _is_session_key(node.args[0])
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        membership = isinstance(node.ops[0], (ast.In, ast.NotIn))
        return membership and _is_session_key(node.left) and _is_scope(node.comparators[0])
    return False


def _is_scope(node: ast.AST) -> bool:
    """`scope` or `<anything>.scope` (a request's scope)."""
    if isinstance(node, ast.Name):
        return node.id == "scope"
    return isinstance(node, ast.Attribute) and node.attr == "scope"


def _is_session_key(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "session"


# --- helpers ------------------------------------------------------------------------------------


def _dotted(obj: object) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


def _where(obj: object) -> dict[str, Any]:
    try:
        target = inspect.unwrap(typing.cast("Any", obj))
        file = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except Exception:  # noqa: BLE001 - builtins, C extensions, partials: no location
        return {"file": None, "line": None}
    return {"file": relative_to_path(file) if file else None, "line": line or None}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
