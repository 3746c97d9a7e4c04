"""An exception as the contract's ExcInfo: type, message, first-party frame and chain.

Runs in the app-loading child (standard library only). "First-party" means a file under one
of the configured roots that is not an installed package (a virtualenv inside the project)
and not preflight itself: the frames a user can fix. Messages are sent as the exception says
them, bounded; the parent redacts environment values before any of it reaches a finding.
Pydantic validation errors are reduced to their first line: their text quotes input values.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Longest message sent; an exception can carry a whole response body.
MAX_MESSAGE = 1000
#: How far `__cause__` / `__context__` chains are followed.
_MAX_CHAIN = 25
_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>[^']+)'")
_PREFLIGHT_DIR = str(Path(__file__).resolve().parent.parent)

#: Turns an exception into `(settings class, [SettingsError...])` when a settings class raised.
SettingsErrors = Callable[[BaseException], "tuple[str | None, list[dict[str, Any]]] | None"]


class Describer:
    """Describes exceptions relative to the run's roots."""

    def __init__(self, roots: Sequence[str], settings_errors: SettingsErrors | None = None) -> None:
        """`roots` are the source roots; `settings_errors` is the settings probe's reader."""
        self.roots = sorted(
            (os.path.realpath(root) for root in roots if root), key=len, reverse=True
        )
        self.settings_errors = settings_errors
        paths = sysconfig.get_paths()
        excluded = {paths.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")}
        excluded |= {sys.prefix, sys.base_prefix, sys.exec_prefix}
        # A virtualenv inside a root (`.venv`) holds installed code, not the user's.
        self.excluded = tuple(
            os.path.realpath(path) for path in excluded if path and not self._is_root(path)
        )

    def _is_root(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == root for root in self.roots)

    def __call__(self, exc: BaseException) -> dict[str, Any]:
        """The ExcInfo of `exc` (never raises)."""
        frames = self.first_party(exc)
        chain = [module for module, _, _ in frames]
        import_error = None
        settings: tuple[str | None, list[dict[str, Any]]] | None = None
        for link in exception_chain(exc):
            if isinstance(link, ImportError):
                inner = frames if link is exc else self.first_party(link)
                if link is not exc:  # a wrapped ImportError: its frames go on from ours
                    chain += [module for module, _, _ in inner]
                import_error = describe_import_error(link, self._frame(inner))
                break
        if self.settings_errors is not None:
            settings = self.settings_errors(exc)
        return {
            "type": type(exc).__name__,
            "qualname": dotted(type(exc)),
            "message": message_of(exc),
            "frame": self._frame(frames),
            "chain": dedupe(chain),
            "import_error": import_error,
            "exit_code": exit_code_of(exc),
            "settings_errors": settings[1] if settings else None,
            "settings_class": settings[0] if settings else None,
        }

    def first_party(self, exc: BaseException) -> list[tuple[str, str, int]]:
        """(module, file relative to its root, line) of each first-party frame, outermost first."""
        found: list[tuple[str, str, int]] = []
        tb = exc.__traceback__
        while tb is not None:
            where = self.relative(tb.tb_frame.f_code.co_filename)
            if where is not None:
                module = tb.tb_frame.f_globals.get("__name__")
                found.append((str(module) if module else where, where, tb.tb_lineno))
            tb = tb.tb_next
        return found

    def relative(self, filename: str) -> str | None:
        """`filename` relative to its root (posix), or None when it is not first-party."""
        if not filename or filename.startswith("<"):
            return None
        real = os.path.realpath(filename)
        if _under(real, _PREFLIGHT_DIR) or any(_under(real, path) for path in self.excluded):
            return None
        if {"site-packages", "dist-packages"} & set(Path(real).parts):
            return None
        for root in self.roots:
            if _under(real, root):
                return os.path.relpath(real, root).replace(os.sep, "/")
        return None

    @staticmethod
    def _frame(frames: list[tuple[str, str, int]]) -> dict[str, Any] | None:
        if not frames:
            return None
        module, file, line = frames[-1]
        return {"module": module, "file": file, "line": line}


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and its `__cause__` / `__context__` links, outermost first, without cycles."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < _MAX_CHAIN and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def describe_import_error(error: ImportError, frame: dict[str, Any] | None) -> dict[str, Any]:
    """The `import_error` part: what is missing, and from where."""
    text = message_of(error)
    if isinstance(error, ModuleNotFoundError):
        name, module = error.name, None
    else:
        match = _CANNOT_IMPORT.search(text)
        name = match["name"] if match else error.name
        module = error.name if match else None
    return {
        "type": type(error).__name__,
        "name": name,
        "module": module,
        "message": text,
        "frame": frame,
    }


def message_of(exc: BaseException) -> str:
    """`str(exc)`, bounded; a pydantic ValidationError only by its first line (no inputs)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a __str__ may raise
        return f"<unprintable {type(exc).__name__}>"
    if dotted(type(exc)).startswith("pydantic_core."):
        text = text.split("\n", 1)[0]
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = repr(exc.args[0])
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text


def exit_code_of(exc: BaseException) -> int | None:
    """The process exit status a SystemExit asks for (None: not a SystemExit)."""
    if not isinstance(exc, SystemExit):
        return None
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def dotted(cls: type) -> str:
    """`module.QualName` of a class (`builtins.KeyError`)."""
    return f"{cls.__module__}.{cls.__qualname__}"


def dedupe(modules: list[str]) -> list[str]:
    """Drop consecutive repeats (several frames of one module) and keep the order."""
    out: list[str] = []
    for module in modules:
        if not out or out[-1] != module:
            out.append(module)
    return out
