"""The middleware rules, pure: a stack (outermost first) and a policy in, findings out.

The policy (`[tool.preflight.middleware]`) is the user's and its findings are errors: PF601
(required missing), PF602 (order), PF603 (duplicates; a warning when no policy is set).
The built-in rules hold for every app and are warnings: PF604 (CORSMiddleware not the
outermost), PF605 (a middleware reads the session outside SessionMiddleware), PF606 (Django's
documented orderings). A name matches a middleware's class name or dotted path, or those of
any class in its MRO, or its dispatch function's (`BaseHTTPMiddleware(dispatch=f)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from preflight.codes import Severity
from preflight.report import Finding

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from preflight.config import MiddlewareConfig

CHECK = "middleware"
ARROW = " -> "
#: How many violated pairs one PF602 message spells out.
_MAX_PAIRS_SHOWN = 3

_SECURITY = "django.middleware.security.SecurityMiddleware"
_SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
_AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
_CSRF = "django.middleware.csrf.CsrfViewMiddleware"
_COMMON = "django.middleware.common.CommonMiddleware"
_MESSAGES = "django.contrib.messages.middleware.MessageMiddleware"
_CORS_HEADERS = "corsheaders.middleware.CorsMiddleware"


@dataclass(frozen=True, slots=True)
class DjangoRule:
    """`outer` must come before (outside) `inner` in MIDDLEWARE, and why (Django's docs)."""

    outer: str
    inner: str
    reason: str
    needs_outer: bool = False
    """Also warn when `inner` is present and `outer` is not."""


#: Django's documented orderings (docs: "Middleware ordering"; django-cors-headers' README).
DJANGO_RULES: tuple[DjangoRule, ...] = (
    DjangoRule(
        _SESSION,
        _AUTH,
        "AuthenticationMiddleware stores the user in the session, which SessionMiddleware provides",
        needs_outer=True,
    ),
    DjangoRule(
        _CSRF,
        _AUTH,
        "a login rotates the CSRF token, so CSRF must be dealt with before authentication",
    ),
    DjangoRule(_SESSION, _MESSAGES, "MessageMiddleware can use session-based storage"),
    DjangoRule(
        _COMMON,
        _CSRF,
        "CommonMiddleware belongs near the top: it redirects for APPEND_SLASH/PREPEND_WWW and"
        " sets Content-Length before other middleware does work",
    ),
    DjangoRule(_COMMON, _AUTH, "CommonMiddleware belongs near the top (APPEND_SLASH redirects)"),
    DjangoRule(
        _CORS_HEADERS,
        _COMMON,
        "django-cors-headers: CorsMiddleware must run before any middleware that can answer"
        " on its own (CommonMiddleware's redirects would lack CORS headers)",
    ),
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One middleware of a stack, as the child described it."""

    name: str
    path: str
    mro: tuple[str, ...] = ()
    dispatch: str | None = None
    dispatch_path: str | None = None
    reads_session: bool = False
    file: str | None = None
    line: int | None = None
    layer: str = "user"
    """`user` (registered on the app) or `wrapper` (an object wrapped around the app)."""

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Entry:
        """Build from a MiddlewareEntry dict, tolerating missing or mistyped keys."""
        name = str(data.get("name") or data.get("path") or "?")
        path = str(data.get("path") or name)
        mro = data.get("mro") or [path]
        line = data.get("line")
        return cls(
            name=name,
            path=path,
            mro=tuple(str(item) for item in mro) if isinstance(mro, list) else (path,),
            dispatch=_str_or_none(data.get("dispatch")),
            dispatch_path=_str_or_none(data.get("dispatch_path")),
            reads_session=data.get("reads_session") is True,
            file=_str_or_none(data.get("file")),
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            layer=str(data.get("layer") or "user"),
        )

    @property
    def label(self) -> str:
        """How the stack shows it: `CORSMiddleware`, `BaseHTTPMiddleware(dispatch=auth)`."""
        return f"{self.name}(dispatch={self.dispatch})" if self.dispatch else self.name

    @property
    def identity(self) -> tuple[str, str | None]:
        """Two entries with the same identity are the same middleware registered twice."""
        return self.path, self.dispatch_path

    @property
    def module(self) -> str | None:
        """The module defining it (or its dispatch function)."""
        path = self.dispatch_path or self.path
        return path.rpartition(".")[0] or None

    def matches(self, name: str) -> bool:
        """`name` is its class (or a base class) by name or dotted path, or its dispatch."""
        if name in {self.name, self.path, self.dispatch, self.dispatch_path}:
            return True
        return any(name in {dotted, dotted.rpartition(".")[2]} for dotted in self.mro)


@dataclass(frozen=True, slots=True)
class Policy:
    """`[tool.preflight.middleware]`: the user's rules (errors)."""

    order: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    allow_duplicates: bool = False
    configured: bool = False
    """Whether the user set any of it (then PF603 is an error, else a warning)."""

    @classmethod
    def from_config(cls, config: MiddlewareConfig) -> Policy:
        """The policy from the config section."""
        configured = bool(config.order or config.required) or (
            "allow_duplicates" in config.model_fields_set
        )
        return cls(config.order, config.required, config.allow_duplicates, configured)


def entries(items: object) -> list[Entry]:
    """Entries from a payload's `stack` list (anything else: empty)."""
    if not isinstance(items, list):
        return []
    return [Entry.from_payload(item) for item in items if isinstance(item, dict)]


def render(stack: Sequence[Entry]) -> str:
    """`A -> B -> C` (outermost first), or `(none)`."""
    return ARROW.join(entry.label for entry in stack) if stack else "(none)"


# --- the policy --------------------------------------------------------------------------------


def policy_findings(stack: Sequence[Entry], policy: Policy, framework: str | None) -> list[Finding]:
    """PF601 (required missing), PF602 (order), PF603 (duplicates)."""
    findings = [
        _missing(name, stack, framework) for name in policy.required if not _has(stack, name)
    ]
    order = _order_violation(stack, policy, framework)
    if order is not None:
        findings.append(order)
    if not policy.allow_duplicates:
        severity = Severity.ERROR if policy.configured else Severity.WARNING
        findings += duplicate_findings(stack, severity)
    return findings


def _has(stack: Sequence[Entry], name: str) -> bool:
    return any(entry.matches(name) for entry in stack)


def _missing(name: str, stack: Sequence[Entry], framework: str | None) -> Finding:
    if framework == "django":
        hint = f"add {name!r} to settings.MIDDLEWARE"
    else:
        hint = f"register it: app.add_middleware({name}, ...) (or Middleware({name}) in"
        hint += " middleware=[...]), or remove it from [tool.preflight.middleware] required"
    return Finding(
        code="PF601",
        check=CHECK,
        severity=Severity.ERROR,
        message=f"required middleware {name} is not installed; the stack (outermost first):"
        f" {render(stack)}",
        name=name,
        hint=hint,
    )


def _order_violation(
    stack: Sequence[Entry], policy: Policy, framework: str | None
) -> Finding | None:
    """One finding naming every pair the stack puts the wrong way round."""
    pairs: list[tuple[str, str, Entry]] = []
    for i, outer in enumerate(policy.order):
        for inner in policy.order[i + 1 :]:
            culprit = _inverted(stack, outer, inner)
            if culprit is not None:
                pairs.append((outer, inner, culprit))
    if not pairs:
        return None
    said = "; ".join(
        f"{outer} must be outside {inner} but sits inside it"
        for outer, inner, _ in pairs[:_MAX_PAIRS_SHOWN]
    )
    if len(pairs) > _MAX_PAIRS_SHOWN:
        said += f" (and {len(pairs) - _MAX_PAIRS_SHOWN} more)"
    outer, inner, culprit = pairs[0]
    return Finding(
        code="PF602",
        check=CHECK,
        severity=Severity.ERROR,
        message=f"middleware order breaks the policy: {said}. Actual stack (outermost first):"
        f" {render(stack)}; policy order: {ARROW.join(policy.order)}",
        module=culprit.module,
        name=outer,
        file=culprit.file,
        line=culprit.line,
        hint=order_hint(outer, inner, framework),
    )


def _inverted(stack: Sequence[Entry], outer: str, inner: str) -> Entry | None:
    """The `outer` entry that sits inside an `inner` one, if any.

    Entries matching both names are compared with neither.
    """
    outers = [i for i, e in enumerate(stack) if e.matches(outer) and not e.matches(inner)]
    inners = [i for i, e in enumerate(stack) if e.matches(inner) and not e.matches(outer)]
    if outers and inners and min(inners) < max(outers):
        return stack[max(outers)]
    return None


def order_hint(outer: str, inner: str, framework: str | None) -> str:
    """How to put `outer` outside `inner`, in the framework's own terms."""
    if framework == "django":
        return f"settings.MIDDLEWARE lists the outermost first: move {outer} above {inner}"
    return (
        "in Starlette/FastAPI the LAST add_middleware call is the outermost: call"
        f" app.add_middleware({outer}, ...) after app.add_middleware({inner}, ...), or list"
        f" {outer} before {inner} in middleware=[...]"
    )


def duplicate_findings(stack: Sequence[Entry], severity: Severity) -> list[Finding]:
    """PF603: one finding per middleware registered more than once."""
    positions: dict[tuple[str, str | None], list[int]] = {}
    for index, entry in enumerate(stack):
        positions.setdefault(entry.identity, []).append(index)
    findings = []
    for indexes in positions.values():
        if len(indexes) < 2:  # noqa: PLR2004 - twice is a duplicate
            continue
        entry = stack[indexes[-1]]
        where = ", ".join(str(i + 1) for i in indexes)
        findings.append(
            Finding(
                code="PF603",
                check=CHECK,
                severity=severity,
                message=f"{entry.label} is registered {len(indexes)} times (positions {where}"
                f" of: {render(stack)})",
                module=entry.module,
                name=entry.name,
                file=entry.file,
                line=entry.line,
                hint="remove the extra registration (a factory called twice, or add_middleware"
                " in a loop?), or set allow_duplicates = true in [tool.preflight.middleware]",
            )
        )
    return findings


# --- the built-in rules ------------------------------------------------------------------------


def builtin_findings(
    stack: Sequence[Entry],
    framework: str | None,
    policy: Policy,
    *,
    mount: str | None = None,
    outer_session: bool = False,
) -> list[Finding]:
    """PF604, PF605 and PF606 (warnings).

    `mount`: the sub-app's path; `outer_session`: the enclosing app installs a
    SessionMiddleware (it wraps every mounted sub-app).
    """
    findings: list[Finding] = []
    if framework == "starlette":
        cors = _cors_not_outermost(stack, policy, mount)
        if cors is not None:
            findings.append(cors)
    findings += session_findings(stack, framework, mount=mount, outer_session=outer_session)
    if framework == "django":
        findings += django_findings(stack)
    return findings


def _where(mount: str | None) -> str:
    return f"mount {mount}: " if mount else ""


def _cors_not_outermost(
    stack: Sequence[Entry], policy: Policy, mount: str | None
) -> Finding | None:
    """PF604: user middleware outside CORSMiddleware (unless the policy's order puts it there)."""
    first = next((i for i, e in enumerate(stack) if e.matches("CORSMiddleware")), None)
    if first is None:
        return None
    cors = stack[first]
    outside = [
        e
        for e in stack[:first]
        if e.layer != "wrapper" and not _policy_places_before(policy, e, "CORSMiddleware")
    ]
    if not outside:
        return None
    names = ", ".join(e.label for e in outside)
    return Finding(
        code="PF604",
        check=CHECK,
        severity=Severity.WARNING,
        message=f"{_where(mount)}CORSMiddleware is not the outermost middleware: {names}"
        f" {'sits' if len(outside) == 1 else 'sit'} outside it, so the responses"
        f" {'it produces' if len(outside) == 1 else 'they produce'} (errors, redirects,"
        f" rejections) lack CORS headers and browsers report them as CORS failures."
        f" Stack (outermost first): {render(stack)}",
        module=cors.module,
        name=cors.name,
        file=cors.file,
        line=cors.line,
        hint="add CORSMiddleware with the LAST app.add_middleware call (or first in"
        " middleware=[...]); to keep this order on purpose, list it in"
        " [tool.preflight.middleware] order",
    )


def _policy_places_before(policy: Policy, entry: Entry, name: str) -> bool:
    """Whether the policy's order deliberately lists `entry` before (outside) `name`."""
    order = list(policy.order)
    if name not in order:
        return False
    mine = [i for i, listed in enumerate(order) if entry.matches(listed)]
    return bool(mine) and min(mine) < order.index(name)


def session_findings(
    stack: Sequence[Entry],
    framework: str | None,
    *,
    mount: str | None = None,
    outer_session: bool = False,
) -> list[Finding]:
    """PF605: each middleware that reads the session but has no SessionMiddleware outside it."""
    sessions = [i for i, e in enumerate(stack) if is_session(e)]
    findings = []
    for index, entry in enumerate(stack):
        if not entry.reads_session or is_session(entry) or outer_session:
            continue
        if any(i < index for i in sessions):
            continue
        if sessions:
            problem = "sits outside SessionMiddleware"
        else:
            problem = "no SessionMiddleware is installed"
        findings.append(
            Finding(
                code="PF605",
                check=CHECK,
                severity=Severity.WARNING,
                message=f"{_where(mount)}{entry.label} reads the session but {problem}:"
                f" {_session_failure(framework)}. Stack (outermost first): {render(stack)}",
                module=entry.module,
                name=entry.name,
                file=entry.file,
                line=entry.line,
                hint=order_hint(stack[sessions[0]].name, entry.name, framework)
                if sessions
                else "install SessionMiddleware outside it",
            )
        )
    return findings


def _session_failure(framework: str | None) -> str:
    if framework == "django":
        return "request.session does not exist yet when it runs (AttributeError)"
    return (
        'request.session raises "SessionMiddleware must be installed to access'
        ' request.session" (scope["session"]: KeyError) on every request it handles'
    )


def is_session(entry: Entry) -> bool:
    """A SessionMiddleware (Starlette's, Django's, or a subclass of either)."""
    return entry.matches("SessionMiddleware")


def django_findings(stack: Sequence[Entry]) -> list[Finding]:
    """PF606: SecurityMiddleware first, and the documented pairs of `DJANGO_RULES`."""
    findings = []
    security = next((i for i, e in enumerate(stack) if e.matches(_SECURITY)), None)
    if security is not None:
        before = [e for e in stack[:security] if not e.matches(_CORS_HEADERS)]
        if before:
            findings.append(
                _django_finding(
                    stack[security],
                    f"SecurityMiddleware should be first in MIDDLEWARE, but"
                    f" {', '.join(e.name for e in before)} come(s) before it: its HTTPS"
                    " redirect and security headers should apply before other middleware"
                    " does work",
                    stack,
                    "move 'django.middleware.security.SecurityMiddleware' to the top of"
                    " MIDDLEWARE (only CorsMiddleware may precede it)",
                )
            )
    for rule in DJANGO_RULES:
        finding = _django_rule(stack, rule)
        if finding is not None:
            findings.append(finding)
    return findings


def _django_rule(stack: Sequence[Entry], rule: DjangoRule) -> Finding | None:
    outers = [i for i, e in enumerate(stack) if e.matches(rule.outer)]
    inners = [i for i, e in enumerate(stack) if e.matches(rule.inner)]
    outer_name, inner_name = _short(rule.outer), _short(rule.inner)
    if not inners:
        return None
    inner = stack[min(inners)]
    if not outers:
        if not rule.needs_outer:
            return None
        return _django_finding(
            inner,
            f"{inner_name} is in MIDDLEWARE without {outer_name}: {rule.reason}",
            stack,
            f"add {rule.outer!r} before {rule.inner!r} in MIDDLEWARE",
        )
    if min(outers) < min(inners):
        return None
    return _django_finding(
        stack[min(outers)],
        f"{outer_name} must come before {inner_name} in MIDDLEWARE: {rule.reason}",
        stack,
        f"move {rule.outer!r} above {rule.inner!r} in MIDDLEWARE",
    )


def _django_finding(entry: Entry, said: str, stack: Sequence[Entry], hint: str) -> Finding:
    return Finding(
        code="PF606",
        check=CHECK,
        severity=Severity.WARNING,
        message=f"{said}. MIDDLEWARE (outermost first): {render(stack)}",
        module=entry.module,
        name=entry.name,
        file=entry.file,
        line=entry.line,
        hint=hint,
    )


def _short(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def all_findings(
    stack: Sequence[Entry],
    framework: str | None,
    policy: Policy,
    mounts: Iterable[tuple[str, Sequence[Entry]]] = (),
) -> list[Finding]:
    """The policy on the app's stack, the built-in rules on it and on every mounted sub-app."""
    findings = policy_findings(stack, policy, framework)
    findings += builtin_findings(stack, framework, policy)
    outer_session = any(is_session(entry) for entry in stack)
    for path, mounted in mounts:
        findings += builtin_findings(
            mounted, framework, policy, mount=path, outer_session=outer_session
        )
    return findings
