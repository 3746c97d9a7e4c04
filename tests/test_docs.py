"""The README says what the code does: the code tables, the quick start, the registry."""

from __future__ import annotations

import re

from conftest import REPO

from preflight.checks import REGISTRY, LazyCheck
from preflight.codes import CHECK_EXIT_CODES
from preflight.render.codes import render_codes

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_code_tables_are_the_generated_ones() -> None:
    match = re.search(r"<!-- codes:start[^\n]*-->\n(.*?)<!-- codes:end -->", README, re.DOTALL)
    assert match is not None
    assert match[1] == render_codes("markdown")


def test_readme_quick_start_is_what_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.*?)\n```", README.split("## Quick start", 1)[1])[:2]
    assert len(commands) == 2
    assert commands[0] in ci
    assert commands[1] in ci


def test_every_registered_check_has_its_catalogue_exit_code() -> None:
    for check in REGISTRY:
        assert check.exit_code == CHECK_EXIT_CODES[check.name]
        loaded = check.load() if isinstance(check, LazyCheck) else check
        assert (loaded.name, loaded.exit_code) == (check.name, check.exit_code)
