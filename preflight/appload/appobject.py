"""Resolve `ATTR` (or call `ATTR()`) on the imported module and say what kind of app it is.

Runs in the app-loading child, standard library only: frameworks are recognised by the
dotted names in the object's MRO, never by importing them. An ASGI app is Starlette/FastAPI,
Django's ASGIHandler, or any callable of (scope, receive, send) that is a coroutine function
(or whose `__call__` is); a WSGI app is a callable of (environ, start_response).
"""

from __future__ import annotations

import difflib
import inspect
import time
from collections.abc import Callable
from typing import Any

from preflight.appload.excinfo import dotted

#: Framework base classes by dotted name: (framework, interface).
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "fastapi.applications.FastAPI": ("fastapi", "asgi"),
    "starlette.applications.Starlette": ("starlette", "asgi"),
    "django.core.handlers.asgi.ASGIHandler": ("django", "asgi"),
    "django.core.handlers.wsgi.WSGIHandler": ("django", "wsgi"),
}
_ASGI_ARITY = 3
_WSGI_ARITY = 2
#: Module attributes looked at when suggesting where the app is (a huge module is cut short).
_MAX_SCANNED = 500

Describe = Callable[[BaseException], dict[str, Any]]


def load_app(module: object, attr: str, describe: Describe) -> tuple[object | None, dict[str, Any]]:
    """The app object and the `app` stage payload for `ATTR` / `ATTR()` on `module`."""
    factory = attr.endswith("()")
    path = attr.removesuffix("()").split(".")
    payload: dict[str, Any] = {"ok": False, "kind": None, "framework": None, "type": None}
    payload["error"] = None
    found: Any = module
    for depth, part in enumerate(path):
        try:
            found = getattr(found, part)
        except AttributeError:
            payload["error"] = {
                "kind": "attribute",
                "name": ".".join(path[: depth + 1]),
                "candidates": candidates(found, part),
            }
            return None, payload
        except BaseException as error:  # noqa: BLE001 - a module __getattr__ may raise anything
            payload["error"] = {"kind": "attribute", "name": ".".join(path), "candidates": []}
            payload["error"]["error"] = describe(error)
            return None, payload
    if factory:
        started = time.perf_counter()
        try:
            found = found()
        except BaseException as error:  # noqa: BLE001 - SystemExit too: it is reported
            required = shape_of(found)["required_params"]  # called with none: the usual TypeError
            payload["error"] = {
                "kind": "factory",
                "error": describe(error),
                "required_params": required,
            }
            return None, payload
        payload["factory_seconds"] = round(time.perf_counter() - started, 4)
    kind, framework = classify(found)
    payload["type"] = dotted(type(found))
    if kind is None:
        payload["error"] = {"kind": "not_app", "type": payload["type"], **shape_of(found)}
        return None, payload
    payload.update(ok=True, kind=kind, framework=framework)
    return found, payload


def classify(obj: object) -> tuple[str | None, str | None]:
    """(`asgi` | `wsgi` | None, framework | None) of an object."""
    if isinstance(obj, type) or not callable(obj):
        return None, None
    for cls in type(obj).__mro__:
        known = FRAMEWORKS.get(dotted(cls))
        if known is not None:
            return known[1], known[0]
    arity = _arity(obj)
    if arity is None:
        return None, None
    call = getattr(obj, "__call__", None)  # noqa: B004 - the method itself is inspected
    is_async = inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call)
    if arity == _ASGI_ARITY or (is_async and arity == -1):
        return "asgi", None
    if not is_async and arity in {_WSGI_ARITY, -1}:
        return "wsgi", None
    return None, None


def _arity(obj: object) -> int | None:
    """Positional parameters the callable takes; -1 for `*args`; None if unknown."""
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    positional = 0
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return -1
        if parameter.kind in {
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        }:
            positional += 1
    return positional


def shape_of(obj: object) -> dict[str, Any]:
    """What a non-app object is, for the hint: a class, a factory, a plain value."""
    required = None
    if callable(obj) and not isinstance(obj, type):
        try:
            params = inspect.signature(obj).parameters.values()
            required = sum(
                1
                for p in params
                if p.default is inspect.Parameter.empty
                and p.kind not in {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
            )
        except (TypeError, ValueError):
            required = None
    return {
        "is_class": isinstance(obj, type),
        "callable": callable(obj),
        "required_params": required,
    }


def candidates(holder: object, name: str) -> list[str]:
    """Where the app may be instead: the holder's app objects first, then close spellings."""
    try:
        names = [n for n in vars(holder) if not n.startswith("_")]
    except TypeError:
        names = [n for n in dir(holder) if not n.startswith("_")]
    apps = []
    for attr in names[:_MAX_SCANNED]:
        value = getattr(holder, attr, None)
        if inspect.ismodule(value) or isinstance(value, type):
            continue
        if classify(value)[0] is not None and not inspect.isfunction(value):
            apps.append(attr)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return list(dict.fromkeys(apps + close))
