"""Durations as users write them (`500ms`, `15s`, `2m`, `1.5`), held as integer milliseconds."""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ms|s|m)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, None: 1000}
_MAX_MS = 24 * 3600 * 1000  # a day: anything longer is a typo, not a start-up budget

EXPECTED = "expected a duration like 500ms, 15s, 2m or a number of seconds"


def parse_duration(value: object) -> int:
    """Return `value` in milliseconds; raise ValueError with a one-line reason otherwise.

    A bare number is seconds (TOML `budget = 15`, env `PREFLIGHT_BUDGET=1.5`). The result is
    at least 1 ms and at most a day: a zero or negative budget would fail every check.
    """
    if isinstance(value, bool):
        msg = f"{value!r} is not a duration ({EXPECTED})"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports only ValueError as a validation error
    if isinstance(value, int | float):
        if not math.isfinite(value):
            msg = f"{value!r} is not a duration ({EXPECTED})"
            raise ValueError(msg)
        millis = value * 1000
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            msg = f"{value!r} is not a duration ({EXPECTED})"
            raise ValueError(msg)
        millis = float(match["number"]) * _UNIT_MS[match["unit"]]
    else:
        msg = f"{type(value).__name__} is not a duration ({EXPECTED})"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError as a validation error
    result = round(millis)
    if result < 1:
        msg = f"{value!r} is not a positive duration"
        raise ValueError(msg)
    if result > _MAX_MS:
        msg = f"{value!r} is longer than a day"
        raise ValueError(msg)
    return result


def format_duration(millis: int) -> str:
    """Render milliseconds the way users write them (`15s`, `500ms`, `1.5s`, `2m`)."""
    if millis % 60_000 == 0:
        return f"{millis // 60_000}m"
    if millis % 1000 == 0:
        return f"{millis // 1000}s"
    if millis >= 1000 and millis % 100 == 0:  # noqa: PLR2004 - one second
        return f"{millis // 1000}.{millis % 1000 // 100}s"
    return f"{millis}ms"
