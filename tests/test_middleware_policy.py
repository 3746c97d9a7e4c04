"""The middleware rules, pure: stacks (outermost first) and policies in, findings out."""

from __future__ import annotations

from preflight.codes import Severity
from preflight.config import MiddlewareConfig
from preflight.middleware_policy import (
    Entry,
    Policy,
    all_findings,
    builtin_findings,
    django_findings,
    entries,
    policy_findings,
    render,
)

CORS = "starlette.middleware.cors.CORSMiddleware"
SESSION = "starlette.middleware.sessions.SessionMiddleware"
TRUSTED = "starlette.middleware.trustedhost.TrustedHostMiddleware"
GZIP = "starlette.middleware.gzip.GZipMiddleware"
BASE_HTTP = "starlette.middleware.base.BaseHTTPMiddleware"


def mw(path: str, *bases: str, reads_session: bool = False, dispatch: str | None = None) -> Entry:
    return Entry(
        name=path.rpartition(".")[2],
        path=path,
        mro=(path, *bases),
        dispatch=dispatch,
        dispatch_path=f"app.middleware.{dispatch}" if dispatch else None,
        reads_session=reads_session,
        file="app/middleware.py",
        line=10,
    )


AUTH = mw("app.middleware.AuthMiddleware", reads_session=True)
SUB_SESSION = mw("app.middleware.UvicornCompatibleSessionMiddleware", SESSION)


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.code for f in findings]


def policy(**kwargs: object) -> Policy:
    return Policy.from_config(MiddlewareConfig(**kwargs))  # type: ignore[arg-type]


ORDER = ("CORSMiddleware", "TrustedHostMiddleware", "SessionMiddleware", "AuthMiddleware")


def test_order_holds_with_unlisted_middleware_anywhere() -> None:
    stack = [mw(GZIP), mw(CORS), mw(TRUSTED), mw(SESSION), mw(GZIP + "2"), AUTH]
    assert policy_findings(stack, policy(order=ORDER), "starlette") == []


def test_order_broken_shows_actual_and_expected() -> None:
    stack = [mw(CORS), AUTH, mw(SESSION)]
    findings = policy_findings(stack, policy(order=ORDER), "starlette")
    assert codes(findings) == ["PF602"]
    finding = findings[0]
    assert finding.severity is Severity.ERROR
    assert "SessionMiddleware must be outside AuthMiddleware" in finding.message
    assert render(stack) in finding.message
    assert " -> ".join(ORDER) in finding.message
    assert "LAST add_middleware call is the outermost" in (finding.hint or "")
    assert finding.name == "SessionMiddleware"


def test_order_matches_subclasses_through_the_mro() -> None:
    wrong = [mw(CORS), AUTH, SUB_SESSION]
    right = [mw(CORS), SUB_SESSION, AUTH]
    assert codes(policy_findings(wrong, policy(order=ORDER), "starlette")) == ["PF602"]
    assert policy_findings(right, policy(order=ORDER), "starlette") == []
    dotted = policy(order=(SESSION, "app.middleware.AuthMiddleware"))
    assert codes(policy_findings(wrong, dotted, "starlette")) == ["PF602"]


def test_order_matches_dispatch_functions() -> None:
    stack = [mw(BASE_HTTP, dispatch="auth_context"), mw(SESSION)]
    findings = policy_findings(
        stack, policy(order=("SessionMiddleware", "auth_context")), "starlette"
    )
    assert codes(findings) == ["PF602"]
    assert "BaseHTTPMiddleware(dispatch=auth_context)" in findings[0].message


def test_many_violations_are_one_finding() -> None:
    stack = [mw(f"m.M{i}") for i in range(6)]
    reversed_order = tuple(f"M{i}" for i in reversed(range(6)))
    findings = policy_findings(stack, policy(order=reversed_order), "starlette")
    assert codes(findings) == ["PF602"]
    assert "(and 12 more)" in findings[0].message


def test_django_order_hint_speaks_of_the_list() -> None:
    stack = [mw("django.contrib.auth.middleware.AuthenticationMiddleware"), mw(SESSION)]
    finding = policy_findings(
        stack, policy(order=("SessionMiddleware", "AuthenticationMiddleware")), "django"
    )[0]
    assert "MIDDLEWARE lists the outermost first" in (finding.hint or "")


def test_required_missing() -> None:
    stack = [mw(CORS), SUB_SESSION]
    findings = policy_findings(
        stack, policy(required=("CORSMiddleware", "SessionMiddleware", "AuthMiddleware")), None
    )
    assert codes(findings) == ["PF601"]
    assert findings[0].name == "AuthMiddleware"
    assert render(stack) in findings[0].message


def test_duplicates_error_with_a_policy_warning_without() -> None:
    stack = [mw(CORS), mw(GZIP), mw(CORS)]
    configured = policy_findings(stack, policy(required=("CORSMiddleware",)), "starlette")
    assert codes(configured) == ["PF603"]
    assert configured[0].severity is Severity.ERROR
    assert "positions 1, 3" in configured[0].message
    bare = policy_findings(stack, policy(), "starlette")
    assert [(f.code, f.severity) for f in bare] == [("PF603", Severity.WARNING)]
    assert policy_findings(stack, policy(allow_duplicates=True), "starlette") == []
    assert policy(allow_duplicates=False).configured is True


def test_same_class_with_different_dispatch_is_not_a_duplicate() -> None:
    stack = [mw(BASE_HTTP, dispatch="a"), mw(BASE_HTTP, dispatch="b")]
    assert policy_findings(stack, policy(required=("a",)), "starlette") == []


def test_cors_should_be_outermost() -> None:
    stack = [mw(GZIP), mw(TRUSTED), mw(CORS)]
    findings = builtin_findings(stack, "starlette", policy())
    assert codes(findings) == ["PF604"]
    assert findings[0].severity is Severity.WARNING
    assert "GZipMiddleware, TrustedHostMiddleware sit outside it" in findings[0].message
    assert builtin_findings([mw(CORS), mw(GZIP)], "starlette", policy()) == []


def test_cors_rule_respects_a_deliberate_policy_order() -> None:
    stack = [mw(TRUSTED), mw(CORS)]
    deliberate = policy(order=("TrustedHostMiddleware", "CORSMiddleware"))
    assert builtin_findings(stack, "starlette", deliberate) == []


def test_cors_rule_ignores_wrappers_around_the_app() -> None:
    wrapper = Entry(name="Telemetry", path="otel.Telemetry", layer="wrapper")
    assert builtin_findings([wrapper, mw(CORS)], "starlette", policy()) == []


def test_session_reader_outside_session_is_the_incident() -> None:
    stack = [mw(CORS), AUTH, SUB_SESSION]
    findings = builtin_findings(stack, "starlette", policy())
    assert codes(findings) == ["PF605"]
    assert "sits outside SessionMiddleware" in findings[0].message
    assert "SessionMiddleware must be installed to access request.session" in findings[0].message
    assert findings[0].file == "app/middleware.py"
    # the fix names the session class the app registers, not its base
    assert findings[0].hint is not None
    assert "app.add_middleware(UvicornCompatibleSessionMiddleware, ...) after" in findings[0].hint
    assert builtin_findings([mw(CORS), SUB_SESSION, AUTH], "starlette", policy()) == []


def test_session_reader_without_any_session() -> None:
    findings = builtin_findings([mw(CORS), AUTH], "starlette", policy())
    assert codes(findings) == ["PF605"]
    assert "no SessionMiddleware is installed" in findings[0].message


def test_mounts_get_the_builtin_rules_with_their_path() -> None:
    mounted = [mw(GZIP), AUTH]
    findings = all_findings([mw(CORS)], "starlette", policy(), [("/admin", mounted)])
    assert codes(findings) == ["PF605"]
    assert findings[0].message.startswith("mount /admin: ")
    # The main app's SessionMiddleware wraps every mount: the reader is served.
    served = all_findings([mw(CORS), mw(SESSION)], "starlette", policy(), [("/admin", mounted)])
    assert served == []


def test_policy_applies_to_the_main_stack_only() -> None:
    findings = all_findings(
        [mw(CORS)], "starlette", policy(required=("GZipMiddleware",)), [("/api", [mw(GZIP)])]
    )
    assert codes(findings) == ["PF601"]


DJANGO_DEFAULT = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def django(paths: list[str]) -> list[Entry]:
    return [mw(path) for path in paths]


def test_django_default_template_passes() -> None:
    assert django_findings(django(DJANGO_DEFAULT)) == []
    with_cors = ["corsheaders.middleware.CorsMiddleware", *DJANGO_DEFAULT]
    assert django_findings(django(with_cors)) == []


def test_django_orderings() -> None:
    swapped = list(DJANGO_DEFAULT)
    swapped[1], swapped[4] = swapped[4], swapped[1]  # auth before sessions
    messages = [f.message for f in django_findings(django(swapped))]
    assert any(
        m.startswith("SessionMiddleware must come before AuthenticationMiddleware")
        for m in messages
    )
    assert all("MIDDLEWARE (outermost first)" in m for m in messages)

    security_late = DJANGO_DEFAULT[1:3] + DJANGO_DEFAULT[:1] + DJANGO_DEFAULT[3:]
    findings = django_findings(django(security_late))
    assert [f.name for f in findings] == ["SecurityMiddleware"]

    cors_late = [*DJANGO_DEFAULT[:3], "corsheaders.middleware.CorsMiddleware", *DJANGO_DEFAULT[3:]]
    findings = django_findings(django(cors_late))
    assert [f.name for f in findings] == ["CorsMiddleware"]
    assert all(f.code == "PF606" and f.severity is Severity.WARNING for f in findings)


def test_django_auth_without_sessions() -> None:
    stack = django([DJANGO_DEFAULT[0], DJANGO_DEFAULT[4]])
    findings = django_findings(stack)
    assert [f.name for f in findings] == ["AuthenticationMiddleware"]
    assert "without SessionMiddleware" in findings[0].message


def test_django_csrf_after_auth() -> None:
    stack = django([DJANGO_DEFAULT[0], DJANGO_DEFAULT[1], DJANGO_DEFAULT[4], DJANGO_DEFAULT[3]])
    assert [f.name for f in django_findings(stack)] == ["CsrfViewMiddleware"]


def test_entries_from_payload_tolerate_garbage() -> None:
    parsed = entries([{"name": "A", "path": "m.A", "line": True}, "junk", {"mro": "x"}])
    assert [e.name for e in parsed] == ["A", "?"]
    assert parsed[0].line is None
    assert entries(None) == []
