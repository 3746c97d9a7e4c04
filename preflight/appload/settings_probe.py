"""Child side of the settings check: instantiate the app's settings class, describe what fails.

Runs inside the app's interpreter. It imports pydantic and pydantic-settings only inside its
functions (the child stays on the standard library until it imports the app), and it never
raises: every failure becomes part of the payload. Validation errors are reduced to the field,
the environment variable(s) the user must set and the error type; pydantic's `input` (the
value, possibly a secret) and messages that can quote it are never copied.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
import typing
from typing import TYPE_CHECKING, Any

from preflight.appload.excinfo import exception_chain

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Error types whose pydantic message can quote the input or user text: never sent.
_UNSAFE_MESSAGE_TYPES = frozenset({"value_error", "assertion_error"})
#: pydantic-settings' error for an env value that is not the JSON a complex field needs.
_SETTINGS_PARSE_ERROR = re.compile(r'error parsing value for field "(?P<field>[^"]+)"')

ExcDescriber = typing.Callable[[BaseException], dict[str, Any]]


def describe_settings(spec: str, describe_error: ExcDescriber | None = None) -> dict[str, Any]:
    """The whole `settings` payload for `pkg.mod:Class`: load, instantiate, describe errors.

    `describe_error` turns an exception into the contract's ExcInfo (the child driver passes
    its own, which knows the roots); a minimal one is used without it.
    """
    describe = describe_error or minimal_exc_info
    payload: dict[str, Any] = {"class": spec, "ok": False, "errors": [], "load_error": None}
    try:
        _load_and_validate(spec, payload, describe)
    except BaseException as error:  # noqa: BLE001 - the probe must never raise
        payload["load_error"] = {
            "kind": "raised",
            "error": _safe(describe, error),
            "candidates": [],
        }
    return payload


def _load_and_validate(spec: str, payload: dict[str, Any], describe: ExcDescriber) -> None:
    module_name, _, qualname = spec.partition(":")
    try:
        __import__(module_name)  # not importlib.import_module: `-X importtime` must see it
        module = sys.modules[module_name]
    except BaseException as error:  # noqa: BLE001 - a module may raise anything, SystemExit too
        _import_failed(module_name, error, payload, describe)
        return
    found: Any = module
    for part in qualname.split("."):
        if not hasattr(found, part):
            payload["load_error"] = {
                "kind": "attribute",
                "error": None,
                "candidates": _close_names(module, part),
            }
            return
        found = getattr(found, part)
    base = _base_settings()
    if base is None or not (isinstance(found, type) and issubclass(found, base)):
        payload["load_error"] = {
            "kind": "not_settings",
            "error": None,
            "candidates": settings_classes_in(module),
        }
        payload["type"] = _dotted(found if isinstance(found, type) else type(found))
        return
    payload.update(_where(found))
    payload["fields"] = len(getattr(found, "model_fields", {}))
    try:
        found()
    except BaseException as error:  # noqa: BLE001 - a validator may raise anything
        described = settings_errors(error)
        if described is not None:
            payload["errors"] = described[1]
            if described[0] != spec:
                payload["errors_class"] = described[0]
            return
        parse = _parse_error(found, error)
        if parse is not None:
            payload["errors"] = [parse]
            return
        payload["load_error"] = {
            "kind": "raised",
            "error": _safe(describe, error),
            "candidates": [],
        }
        return
    payload["ok"] = True


def _import_failed(
    module_name: str, error: BaseException, payload: dict[str, Any], describe: ExcDescriber
) -> None:
    """Record a settings module that fails to import.

    Its settings failing at import time (a module-level `settings = Settings()` is common)
    count as validation errors; anything else is a load error.
    """
    described = settings_errors(error)
    if described is not None:
        payload["errors"] = described[1]
        payload["errors_class"] = described[0]
        return
    missing = isinstance(error, ModuleNotFoundError) and _is_prefix(error.name, module_name)
    payload["load_error"] = {
        "kind": "import" if missing else "raised",
        "error": _safe(describe, error),
        "candidates": [],
    }


def _is_prefix(name: str | None, module_name: str) -> bool:
    return name is not None and (module_name == name or module_name.startswith(name + "."))


def _safe(describe: ExcDescriber, error: BaseException) -> dict[str, Any] | None:
    try:
        return describe(error)
    except Exception:  # noqa: BLE001 - a broken describer must not break the probe
        return minimal_exc_info(error)


def minimal_exc_info(error: BaseException) -> dict[str, Any]:
    """An ExcInfo without frames (the child driver's own describer knows the roots)."""
    kind = type(error)
    import_error = _import_error_in(error)
    return {
        "type": kind.__name__,
        "qualname": _dotted(kind),
        "message": _message(error),
        "frame": None,
        "chain": [],
        "import_error": import_error,
        "exit_code": _exit_code(error),
        "settings_errors": None,
        "settings_class": None,
    }


def _message(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a __str__ may raise
        return f"<unprintable {type(error).__name__}>"


def _exit_code(error: BaseException) -> int | None:
    if not isinstance(error, SystemExit):
        return None
    return error.code if isinstance(error.code, int) else 1


def _import_error_in(error: BaseException) -> dict[str, Any] | None:
    for link in exception_chain(error):
        if isinstance(link, ImportError):
            return {
                "type": type(link).__name__,
                "name": link.name,
                "module": None if isinstance(link, ModuleNotFoundError) else link.name,
                "message": _message(link),
            }
    return None


# --- validation errors -----------------------------------------------------------------------


def settings_errors(exc: BaseException) -> tuple[str | None, list[dict[str, Any]]] | None:
    """("pkg.mod:Class", [SettingsError...]) when `exc` (or its cause) is a settings failure.

    A pydantic ValidationError counts when a BaseSettings class raised it (found from the
    traceback's `self` / `__pydantic_self__` / `cls`); pydantic-settings' own error for an env
    value that is not valid JSON counts too. Anything else: None. Never raises.
    """
    try:
        return _settings_errors(exc)
    except Exception:  # noqa: BLE001 - the probe must never raise
        return None


def _settings_errors(exc: BaseException) -> tuple[str | None, list[dict[str, Any]]] | None:
    if "pydantic_settings" not in sys.modules:  # nothing could have raised one
        return None
    from pydantic import ValidationError  # noqa: PLC0415 - only once the app has it loaded

    for link in exception_chain(exc):
        if isinstance(link, ValidationError):
            cls = _raising_settings_class(link)
            if cls is not None:
                return _spec(cls), validation_errors(cls, link)
        cls = _raising_settings_class(link)
        if cls is not None:
            parse = _parse_error(cls, link)
            if parse is not None:
                return _spec(cls), [parse]
    return None


def _raising_settings_class(error: BaseException) -> type | None:
    """The BaseSettings subclass whose construction raised `error`, from the traceback."""
    base = _base_settings()
    if base is None:
        return None
    title = getattr(error, "title", None)
    found: type | None = None
    tb = error.__traceback__
    while tb is not None:
        frame_locals = tb.tb_frame.f_locals
        for name in ("__pydantic_self__", "self", "cls"):
            value = frame_locals.get(name)
            cls = value if isinstance(value, type) else type(value)
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base:
                found = cls  # the innermost frame wins: the class actually being built
        tb = tb.tb_next
    config = getattr(found, "model_config", {}) or {}
    if (
        found is not None
        and title is not None
        and title not in {found.__name__, config.get("title")}
    ):
        return None  # a settings class's validator validated some other model
    return found


def validation_errors(cls: type, error: object) -> list[dict[str, Any]]:
    """One SettingsError per pydantic error: field, env var names, type; never the input."""
    out: list[dict[str, Any]] = []
    for item in getattr(error, "errors")(include_url=False):  # noqa: B009 - a ValidationError
        loc = tuple(item.get("loc", ()))
        field, env = env_names(cls, loc)
        out.append(
            {
                "field": field,
                "env": env,
                "type": str(item.get("type", "")),
                "msg": None if _is_secret(cls, loc) else _safe_msg(item),
            }
        )
    return out


def _is_secret(cls: type, loc: tuple[Any, ...]) -> bool:
    """A SecretStr/SecretBytes field: even a length in pydantic's message says too much."""
    match = _field_for(cls, loc) if loc else None
    return match is not None and "Secret" in repr(getattr(match[1], "annotation", None))


def _safe_msg(item: dict[str, Any]) -> str | None:
    """Pydantic's message, only for built-in types whose template cannot quote the input."""
    kind = str(item.get("type", ""))
    if kind in _UNSAFE_MESSAGE_TYPES or kind not in _builtin_error_types():
        return None
    msg = item.get("msg")
    if not isinstance(msg, str):
        return None
    value = item.get("input")
    if isinstance(value, str) and len(value) >= 3 and value in msg:  # noqa: PLR2004 - tiny values collide with words
        return None
    return msg


def _builtin_error_types() -> frozenset[str]:
    from pydantic_core import core_schema  # noqa: PLC0415 - loaded with pydantic

    return frozenset(typing.get_args(core_schema.ErrorType))


def _parse_error(cls: type, error: BaseException) -> dict[str, Any] | None:
    """Pydantic-settings' `error parsing value for field "x"` as a SettingsError.

    Raised when a complex field's env value is not JSON; its message names the field and the
    source, never the value.
    """
    match = _SETTINGS_PARSE_ERROR.search(_message(error))
    if match is None:
        return None
    field, env = env_names(cls, (match["field"],))
    return {"field": field, "env": env, "type": "json_invalid", "msg": "value is not valid JSON"}


# --- environment variable names ---------------------------------------------------------------


def env_names(cls: type, loc: tuple[Any, ...]) -> tuple[str, list[str]]:
    """The dotted field path of an error `loc` and the env var names that set it, best first.

    Follows pydantic-settings: `env_prefix` (applied to aliases only with
    `env_prefix_target` "alias"/"all"), `validation_alias` / `alias` (AliasChoices: every
    choice; AliasPath: its first key, holding JSON), case sensitivity (names are shown upper
    case when matching ignores case) and `env_nested_delimiter` for nested models (without a
    delimiter a nested model is set whole, as JSON, through its top-level variable).
    """
    config = getattr(cls, "model_config", {}) or {}
    if not loc or not isinstance(loc[0], str):
        return ".".join(str(part) for part in loc), []
    match = _field_for(cls, loc)
    if match is None:  # an extra input (from a .env file, say): name it as given
        name = str(loc[0])
        return ".".join(str(part) for part in loc), [_case(config, name)]
    field_name, info, used = match
    heads = _top_level_names(field_name, info, config)
    path = [field_name]
    nested: list[str] = []
    delimiter = config.get("env_nested_delimiter") or ""
    model = _model_of(getattr(info, "annotation", None))
    rest = loc[used:]
    for part in rest:
        if not isinstance(part, str) or model is None:
            path.extend(str(p) for p in rest[len(nested) :])
            break
        sub = _field_for(model, (part,))
        if sub is None:
            path.extend(str(p) for p in rest[len(nested) :])
            break
        sub_name, sub_info, _ = sub
        alias = getattr(sub_info, "validation_alias", None)
        nested.append(alias if isinstance(alias, str) else sub_name)
        path.append(sub_name)
        model = _model_of(getattr(sub_info, "annotation", None))
    if nested and delimiter:
        names = [head + delimiter + delimiter.join(nested) for head in heads]
    else:
        names = heads
    if model is not None and delimiter and len(path) == len(nested) + 1:
        # A whole nested model: its required fields' own variables come first.
        required = _required_names(model)
        names = [name + delimiter + sub for name in names[:1] for sub in required] + names
    return ".".join(path), [_case(config, name) for name in _unique(names)]


def _required_names(model: type) -> list[str]:
    """The names of a model's required fields (their alias when they have a plain one)."""
    out = []
    for name, info in (getattr(model, "model_fields", {}) or {}).items():
        if getattr(info, "is_required", lambda: False)():
            alias = getattr(info, "validation_alias", None)
            out.append(alias if isinstance(alias, str) else name)
    return out


def _field_for(cls: type, loc: tuple[Any, ...]) -> tuple[str, Any, int] | None:
    """The field an error loc starts with: by name, alias, AliasChoices or AliasPath."""
    fields: dict[str, Any] = getattr(cls, "model_fields", {}) or {}
    head = loc[0]
    if head in fields:
        return head, fields[head], 1
    for name, info in fields.items():
        for path in _alias_paths(info):
            if tuple(loc[: len(path)]) == tuple(path):
                return name, info, len(path)
    lowered = str(head).lower()
    for name, info in fields.items():  # case-insensitive sources hand keys over lower-cased
        if name.lower() == lowered:
            return name, info, 1
    return None


def _alias_paths(info: object) -> list[list[Any]]:
    alias = getattr(info, "validation_alias", None)
    if alias is None:
        alias = getattr(info, "alias", None)
    if alias is None:
        return []
    if isinstance(alias, str):
        return [[alias]]
    convert = getattr(alias, "convert_to_aliases", None)
    if convert is None:
        return []
    converted = convert()
    if converted and isinstance(converted[0], list):  # AliasChoices
        return [list(choice) for choice in converted]
    return [list(converted)]  # AliasPath


def _top_level_names(field_name: str, info: object, config: Mapping[str, Any]) -> list[str]:
    prefix = config.get("env_prefix", "") or ""
    target = config.get("env_prefix_target", "variable")
    by_alias = config.get("validate_by_alias", True)
    by_name = config.get("validate_by_name", False) or config.get("populate_by_name", False)
    names: list[str] = []
    paths = _alias_paths(info) if by_alias else []
    alias_prefix = prefix if target in {"alias", "all"} else ""
    names.extend(alias_prefix + str(path[0]) for path in paths if path and isinstance(path[0], str))
    if not paths or by_name:
        names.append((prefix if target in {"variable", "all"} else "") + field_name)
    return names


def _model_of(annotation: object) -> type | None:
    """The pydantic model inside an annotation (`Db`, `Db | None`, `Optional[Db]`)."""
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and hasattr(candidate, "model_fields"):
            return candidate
    return None


def _case(config: Mapping[str, Any], name: str) -> str:
    return name if config.get("case_sensitive", False) else name.upper()


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


# --- classes ------------------------------------------------------------------------------------


def _base_settings() -> type | None:
    try:
        from pydantic_settings import BaseSettings  # noqa: PLC0415 - only when asked
    except Exception:  # noqa: BLE001 - not installed, or broken: no settings class can exist
        return None
    return BaseSettings


def settings_classes_in(module: object) -> list[str]:
    """Names of the BaseSettings subclasses a module defines or imports."""
    base = _base_settings()
    if base is None:
        return []
    names = []
    for name, value in sorted(vars(module).items()):
        if isinstance(value, type) and issubclass(value, base) and value is not base:
            names.append(name)
    return names


def _close_names(module: object, name: str) -> list[str]:
    """Settings classes of the module first, then close spellings of `name`."""
    classes = settings_classes_in(module)
    base = _base_settings()
    public = [n for n, v in vars(module).items() if not n.startswith("_") and v is not base]
    close = difflib.get_close_matches(name, public, n=3, cutoff=0.6)
    return _unique(close + classes)


def _spec(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _where(cls: type) -> dict[str, Any]:
    """The class's file (relative to its sys.path entry) and line, when they can be known."""
    try:
        file = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return {"file": None, "line": None}
    return {"file": relative_to_path(file) if file else None, "line": line}


def relative_to_path(file: str) -> str:
    """`file` relative to the longest `sys.path` entry holding it (posix), else as given."""
    absolute = os.path.abspath(file)  # noqa: PTH100 - no symlink resolution, as sys.path
    best = ""
    for entry in sys.path:
        base = os.path.abspath(entry or os.curdir)  # noqa: PTH100
        if absolute.startswith(base.rstrip(os.sep) + os.sep) and len(base) > len(best):
            best = base
    if not best:
        return absolute
    return os.path.relpath(absolute, best).replace(os.sep, "/")
