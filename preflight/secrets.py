"""Secret masking: the one boundary every outgoing text passes through.

Findings mask their own text when they are made, and the event log masks every string it
writes, both with `mask_secrets`. Database drivers and HTTP clients quote the URL they were
given in their exceptions, so any text may carry a password: mask by shape, not by origin.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@host: the password runs to the last '@' of the authority, so an
# unencoded '@' inside it is masked too.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^/\s]+)(?P<tail>@)",
)
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
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{MASK}\g<tail>", text)
    if "=" in text:
        text = _KEY_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return text
