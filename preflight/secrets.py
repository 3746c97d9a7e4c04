"""Secret masking: the one boundary every outgoing text passes through.

Findings mask their own text when they are made, and the event log masks every string it
writes, both with `mask_secrets`. Database drivers and HTTP clients quote the URL they were
given in their exceptions, so any text may carry a password: mask by shape, not by origin.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

MASK = "***"

# scheme://user:password@host: the password runs to the last '@' of the word (up to
# whitespace), so an unencoded '@', '/', '?' or '#' inside it is masked too. (A base64
# password's '/' left unencoded ends the URL's authority early, but not the password.) A
# word such as `http://host:8080/x@y` is masked as well: a port too many beats a leak.
_URL_HEAD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:")
_WORD = re.compile(r"\S+")
# key=value pairs of libpq keyword DSNs and query strings: password=..., passwd=...
_KEY_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|api_key|apikey)\s*=\s*)(?P<secret>[^\s&;,'\"]+)",
    re.IGNORECASE,
)


def mask_dsn(url: str) -> str:
    """Return `url` with its password replaced by `***` (`postgresql://app:***@db/app`)."""
    return mask_secrets(url)


def mask_secrets(text: str) -> str:
    """Mask every password-shaped part of `text`: URL userinfo and `password=` pairs."""
    if "://" in text and "@" in text:
        text = _WORD.sub(_mask_url_password, text)
    if "=" in text:
        text = _KEY_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return text


def _mask_url_password(word: re.Match[str]) -> str:
    """One word: from its first `scheme://user:` to its last '@' (linear, no backtracking)."""
    text = word.group()
    head = _URL_HEAD.search(text)
    if head is None:
        return text
    at = text.rfind("@")
    if at <= head.end():
        return text
    return text[: head.end()] + MASK + text[at:]


#: Variables whose values are never secrets and would only garble text if redacted.
_PUBLIC_VARIABLES = frozenset(
    {
        "PATH", "HOME", "PWD", "OLDPWD", "LANG", "LANGUAGE", "TERM", "SHELL", "USER", "LOGNAME",
        "HOSTNAME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TMPDIR", "TZ", "SHLVL", "_",
        "COLUMNS", "LINES", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED",
    }
)  # fmt: skip
_PUBLIC_PREFIXES = ("LC_", "XDG_")
#: Values this short are common words and numbers (`1`, `on`, `dev`), not secrets.
_MIN_SECRET_LENGTH = 4
#: Values shorter than this are redacted only as whole tokens: `short` inside `too_short` is a
#: word of pydantic's, not the value of `API_TOKEN=short`.
_SUBSTRING_LENGTH = 6


def redact_environ(text: str, environ: Mapping[str, str]) -> str:
    """Replace every value of `environ`'s variables found in `text` with `***`.

    For text an app wrote (exception messages, its output): any variable may hold a secret,
    and an exception quotes whatever it was given. Well-known public variables (PATH, HOME,
    ...) and values shorter than 4 characters are left alone; values shorter than 6 are
    redacted where they stand as a whole token; longer values go first, so a value containing
    another is redacted whole.
    """
    values = {
        value
        for name, value in environ.items()
        if len(value) >= _MIN_SECRET_LENGTH
        and name.upper() not in _PUBLIC_VARIABLES
        and not name.upper().startswith(_PUBLIC_PREFIXES)
    }
    present = sorted((value for value in values if value in text), key=len, reverse=True)
    if not present:
        return text
    pattern = re.compile(
        "|".join(
            re.escape(value)
            if len(value) >= _SUBSTRING_LENGTH
            else rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])"
            for value in present
        )
    )
    return pattern.sub(MASK, text)
