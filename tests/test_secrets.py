"""Masking passwords in DSNs and in any text that may quote one."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from preflight.secrets import mask_dsn, mask_secrets

MASK_CASES = [
    pytest.param(
        "postgresql://app:s3cret@db:5432/app",
        "postgresql://app:***@db:5432/app",
        id="postgresql-password",
    ),
    pytest.param(
        "postgresql://app:p@ss@db:5432/app",
        "postgresql://app:***@db:5432/app",
        id="password-with-at-sign",
    ),
    pytest.param(
        "could not connect to postgres://app:hunter2@db/app: timeout expired",
        "could not connect to postgres://app:***@db/app: timeout expired",
        id="postgres-url-mid-sentence",
    ),
    pytest.param("redis://:pw1234@cache:6379/0", "redis://:***@cache:6379/0", id="redis-no-user"),
    pytest.param(
        "postgresql://app@db:5432/app", "postgresql://app@db:5432/app", id="no-password-unchanged"
    ),
    pytest.param(
        "http://auth:8081/health", "http://auth:8081/health", id="http-port-path-unchanged"
    ),
    pytest.param(
        "host=db password=x user=app", "host=db password=*** user=app", id="libpq-keyword-dsn"
    ),
    pytest.param(
        "postgresql://db/app?password=x&sslmode=require",
        "postgresql://db/app?password=***&sslmode=require",
        id="query-string-password",
    ),
    pytest.param(
        "primary postgresql://a:one1@h1/db, replica postgresql://b:two2@h2/db",
        "primary postgresql://a:***@h1/db, replica postgresql://b:***@h2/db",
        id="two-urls",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MASK_CASES)
def test_mask_secrets(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(("text", "expected"), MASK_CASES)
def test_mask_dsn(text, expected):
    assert mask_dsn(text) == expected


PASSWORD_CHARS = sorted(set(string.printable) - set(string.whitespace))


@given(st.text(alphabet=PASSWORD_CHARS, min_size=4))
@example("p@ss:w0rd@")
@example("a?b#c=d&e")
@example("Zm9v/YmFy+==")  # base64, '/' left unencoded: urllib ends the authority there
def test_password_never_survives_masking(password):
    """The whole password becomes `***`; user and host stay visible.

    Compared exactly: `password not in result` would misfire on passwords such as `5432` or
    `***@` that occur in the rest of the text anyway.
    """
    dsn = mask_dsn(f"postgresql://app:{password}@db:5432/app")
    sentence = mask_secrets(f"error connecting to postgresql://app:{password}@db/app: refused")
    assert dsn == "postgresql://app:***@db:5432/app"
    assert sentence == "error connecting to postgresql://app:***@db/app: refused"
