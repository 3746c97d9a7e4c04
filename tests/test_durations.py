"""Durations as users write them, held as integer milliseconds."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from preflight.durations import format_duration, parse_duration

DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("500ms", 500, id="milliseconds"),
        pytest.param("15s", 15_000, id="seconds"),
        pytest.param("2m", 120_000, id="minutes"),
        pytest.param("1.5", 1_500, id="bare-number-is-seconds"),
        pytest.param(" 15s ", 15_000, id="surrounding-whitespace"),
        pytest.param(15, 15_000, id="int-seconds"),
        pytest.param(1.5, 1_500, id="float-seconds"),
        pytest.param(".5s", 500, id="leading-dot"),
        pytest.param("1ms", 1, id="smallest"),
        pytest.param("1440m", DAY_MS, id="exactly-a-day"),
    ],
)
def test_parse_duration_accepts(value, expected):
    result = parse_duration(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("abc", id="word"),
        pytest.param("-1", id="negative"),
        pytest.param("0", id="zero"),
        pytest.param("0s", id="zero-seconds"),
        pytest.param("1x", id="unknown-unit"),
        pytest.param("1h", id="hours-unsupported"),
        pytest.param("", id="empty"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(["15s"], id="list"),
        pytest.param(-1, id="negative-int"),
        pytest.param("0.0001s", id="rounds-to-zero"),
        pytest.param("1441m", id="more-than-a-day-minutes"),
        pytest.param(f"{DAY_MS + 1}ms", id="more-than-a-day-ms"),
        pytest.param(86_401, id="more-than-a-day-int"),
    ],
)
def test_parse_duration_rejects(value):
    with pytest.raises(ValueError, match=r"duration|day") as caught:
        parse_duration(value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("millis", "expected"),
    [
        pytest.param(15_000, "15s", id="seconds"),
        pytest.param(500, "500ms", id="milliseconds"),
        pytest.param(1_500, "1.5s", id="fractional-seconds"),
        pytest.param(120_000, "2m", id="minutes"),
    ],
)
def test_format_duration(millis, expected):
    assert format_duration(millis) == expected


@given(st.integers(min_value=1, max_value=DAY_MS))
@example(1_000_001)  # more than six significant digits of seconds
def test_format_then_parse_round_trips(millis):
    assert parse_duration(format_duration(millis)) == millis
    assert parse_duration(f"{millis}ms") == millis
