"""The resolver on real trees: what each name is, where it lies, and that nothing runs."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from preflight.graph.resolver import ModuleKind, Resolved, Resolver

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

EXT = EXTENSION_SUFFIXES[0]

# An __init__.py that leaves a trace when executed (and fails, so an import would show too).
EXPLODING_INIT = """\
from pathlib import Path
Path(__file__).with_name("EXECUTED").write_text("ran")
raise RuntimeError("this module must never be executed")
"""


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def isolated(*roots: Path, sys_path: Sequence[str | Path] = ()) -> Resolver:
    """A resolver that sees only `roots` and `sys_path` (no stdlib, no site-packages)."""
    return Resolver(roots=list(roots), sys_path=[str(entry) for entry in sys_path])


# -- first-party kinds --------------------------------------------------------------------


def test_source_module(tmp_path):
    write(tmp_path / "settings.py")
    found = isolated(tmp_path).resolve("settings")
    assert found == Resolved("settings", ModuleKind.SOURCE, tmp_path / "settings.py", tmp_path, ())
    assert found.first_party
    assert not found.is_package
    assert found.relative_file() == "settings.py"


def test_package(tmp_path):
    init = write(tmp_path / "app" / "__init__.py")
    found = isolated(tmp_path).resolve("app")
    assert found.kind is ModuleKind.PACKAGE
    assert found.path == init
    assert found.root == tmp_path
    assert found.search_locations == (tmp_path / "app",)
    assert found.is_package
    assert found.relative_file() == "app/__init__.py"


def test_nested_package_and_posix_relative_file(tmp_path):
    for package in ("app", "app/api", "app/api/v1"):
        write(tmp_path / package / "__init__.py")
    write(tmp_path / "app" / "api" / "v1" / "users.py")
    resolver = isolated(tmp_path)
    v1 = resolver.resolve("app.api.v1")
    users = resolver.resolve("app.api.v1.users")
    assert v1.kind is ModuleKind.PACKAGE
    assert v1.relative_file() == "app/api/v1/__init__.py"
    assert users.kind is ModuleKind.SOURCE
    assert users.root == tmp_path
    assert users.relative_file() == "app/api/v1/users.py"
    assert "\\" not in (users.relative_file() or "")


def test_namespace_package_in_one_root(tmp_path):
    write(tmp_path / "services" / "billing.py")
    resolver = isolated(tmp_path)
    namespace = resolver.resolve("services")
    assert namespace.kind is ModuleKind.NAMESPACE
    assert namespace.path is None
    assert namespace.root == tmp_path
    assert namespace.search_locations == (tmp_path / "services",)
    assert namespace.is_package
    assert namespace.first_party
    assert namespace.relative_file() is None
    assert resolver.resolve("services.billing").kind is ModuleKind.SOURCE


def test_namespace_package_split_across_two_roots(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    write(one / "ns" / "a.py")
    write(two / "ns" / "b.py")
    # A namespace nested in a namespace, split too (PathFinder.find_spec raises KeyError here).
    write(one / "ns" / "inner" / "x.py")
    write(two / "ns" / "inner" / "y.py")
    resolver = isolated(one, two)
    namespace = resolver.resolve("ns")
    assert namespace.kind is ModuleKind.NAMESPACE
    assert namespace.search_locations == (one / "ns", two / "ns")
    a, b = resolver.resolve("ns.a"), resolver.resolve("ns.b")
    assert (a.kind, a.root, a.relative_file()) == (ModuleKind.SOURCE, one, "ns/a.py")
    assert (b.kind, b.root, b.relative_file()) == (ModuleKind.SOURCE, two, "ns/b.py")
    inner = resolver.resolve("ns.inner")
    assert inner.kind is ModuleKind.NAMESPACE
    assert inner.search_locations == (one / "ns" / "inner", two / "ns" / "inner")
    assert resolver.resolve("ns.inner.x").path == one / "ns" / "inner" / "x.py"
    assert resolver.resolve("ns.inner.y").path == two / "ns" / "inner" / "y.py"
    assert resolver.resolve("ns.inner.z").kind is ModuleKind.MISSING


def test_a_regular_package_later_on_the_path_beats_an_earlier_namespace_portion(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    write(one / "pkg" / "only_in_portion.py")
    write(two / "pkg" / "__init__.py")
    resolver = isolated(one, two)
    package = resolver.resolve("pkg")
    assert (package.kind, package.root) == (ModuleKind.PACKAGE, two)
    assert package.search_locations == (two / "pkg",)
    assert resolver.resolve("pkg.only_in_portion").kind is ModuleKind.MISSING


def test_src_layout(tmp_path):
    src = tmp_path / "project" / "src"
    write(src / "app" / "__init__.py")
    write(src / "app" / "main.py")
    write(tmp_path / "project" / "tests" / "test_app.py")
    resolver = isolated(src)
    main = resolver.resolve("app.main")
    assert (main.kind, main.root, main.relative_file()) == (ModuleKind.SOURCE, src, "app/main.py")
    assert resolver.resolve("tests").kind is ModuleKind.MISSING


def test_nested_roots_the_deepest_root_owns_the_module(tmp_path):
    src = tmp_path / "src"
    write(src / "app" / "__init__.py")
    write(tmp_path / "manage.py")
    resolver = isolated(tmp_path, src)
    app = resolver.resolve("app")
    assert (app.root, app.relative_file()) == (src, "app/__init__.py")
    assert resolver.resolve("manage").root == tmp_path


def test_extension_and_bytecode_only_modules(tmp_path):
    extension = write(tmp_path / f"fast{EXT}")
    bytecode = write(tmp_path / "legacy.pyc")
    compiled_init = write(tmp_path / "cpkg" / f"__init__{EXT}")
    write(tmp_path / "cpkg" / "helpers.py")
    resolver = isolated(tmp_path)
    fast = resolver.resolve("fast")
    assert (fast.kind, fast.path, fast.root) == (ModuleKind.EXTENSION, extension, tmp_path)
    assert not fast.is_package
    # An extension may register submodules in sys.modules when it loads (PyO3 modules do):
    # they cannot be seen without loading it, so they are trusted, like `os.path`.
    assert resolver.resolve("fast.sub").kind is ModuleKind.EXTENSION
    assert resolver.resolve("legacy").kind is ModuleKind.EXTENSION
    assert resolver.resolve("legacy").path == bytecode
    cpkg = resolver.resolve("cpkg")
    assert (cpkg.kind, cpkg.path) == (ModuleKind.EXTENSION, compiled_init)
    assert cpkg.is_package
    assert resolver.resolve("cpkg.helpers").kind is ModuleKind.SOURCE


def test_a_package_shadows_a_module_of_the_same_name(tmp_path):
    write(tmp_path / "core" / "__init__.py")
    write(tmp_path / "core" / "exceptions.py", "class Old(Exception): ...\n")
    init = write(tmp_path / "core" / "exceptions" / "__init__.py")
    found = isolated(tmp_path).resolve("core.exceptions")
    assert (found.kind, found.path) == (ModuleKind.PACKAGE, init)


# -- stdlib and third-party ---------------------------------------------------------------


def test_stdlib(tmp_path):
    resolver = Resolver(roots=[tmp_path])
    json = resolver.resolve("json")
    assert (json.kind, json.root) == (ModuleKind.STDLIB, None)
    assert json.path is not None
    assert json.path.name == "__init__.py"
    assert json.is_package
    assert not json.first_party
    assert json.relative_file() is None
    etree = resolver.resolve("xml.etree.ElementTree")
    assert etree.kind is ModuleKind.STDLIB
    assert etree.path is not None
    assert etree.path.name == "ElementTree.py"
    # os.path is set by os at run time: a stdlib plain module's attribute, not a file.
    assert resolver.resolve("os.path") == Resolved("os.path", ModuleKind.STDLIB, None, None, ())
    assert resolver.resolve("sys") == Resolved("sys", ModuleKind.STDLIB, None, None, ())
    assert resolver.resolve("json.no_such_module").kind is ModuleKind.MISSING


@pytest.mark.skipif(sys.platform == "win32", reason="msvcrt exists on Windows")
def test_a_stdlib_name_that_this_platform_lacks_is_missing(tmp_path):
    assert "msvcrt" in sys.stdlib_module_names
    assert Resolver(roots=[tmp_path]).resolve("msvcrt").kind is ModuleKind.MISSING


def test_installed_third_party(tmp_path):
    resolver = Resolver(roots=[tmp_path])
    click = resolver.resolve("click")
    assert (click.kind, click.root) == (ModuleKind.THIRD_PARTY, None)
    assert click.path is not None
    assert click.path.name == "__init__.py"
    assert click.is_package
    assert not click.first_party
    assert click.relative_file() is None
    fields = resolver.resolve("pydantic.fields")
    assert (fields.kind, fields.root) == (ModuleKind.THIRD_PARTY, None)
    assert fields.path is not None
    assert fields.path.name == "fields.py"


def test_third_party_namespace_package(tmp_path):
    site = tmp_path / "site"
    write(site / "vendorns" / "part" / "__init__.py")
    resolver = isolated(tmp_path / "app", sys_path=[site])
    namespace = resolver.resolve("vendorns")
    assert (namespace.kind, namespace.path, namespace.root) == (ModuleKind.THIRD_PARTY, None, None)
    assert namespace.is_package
    assert resolver.resolve("vendorns.part").kind is ModuleKind.THIRD_PARTY


def test_roots_are_searched_before_sys_path(tmp_path):
    root, site = tmp_path / "app", tmp_path / "site"
    write(root / "click.py")
    write(root / "shared.py")
    write(site / "shared" / "__init__.py")
    resolver = Resolver(roots=[root], sys_path=[str(site), *sys.path])
    click = resolver.resolve("click")
    assert (click.kind, click.root, click.path) == (ModuleKind.SOURCE, root, root / "click.py")
    shared = resolver.resolve("shared")
    assert (shared.kind, shared.path) == (ModuleKind.SOURCE, root / "shared.py")


def test_a_root_shadows_a_stdlib_module_that_is_neither_builtin_nor_frozen(tmp_path):
    write(tmp_path / "json.py")
    found = Resolver(roots=[tmp_path]).resolve("json")
    assert (found.kind, found.root) == (ModuleKind.SOURCE, tmp_path)


def test_builtin_and_frozen_modules_cannot_be_shadowed_by_a_root(tmp_path):
    write(tmp_path / "sys.py")
    write(tmp_path / "os.py")
    resolver = Resolver(roots=[tmp_path])
    assert resolver.resolve("sys") == Resolved("sys", ModuleKind.STDLIB, None, None, ())
    os_module = resolver.resolve("os")
    assert (os_module.kind, os_module.root) == (ModuleKind.STDLIB, None)
    assert os_module.path != tmp_path / "os.py"
    # Without the stdlib on the path, still the stdlib (built in / frozen), just no file.
    assert isolated(tmp_path).resolve("os").kind is ModuleKind.STDLIB


def test_installed_packages_inside_a_root_are_third_party(tmp_path):
    # A virtualenv in the project directory (`/app/.venv` with root `/app`).
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    write(site / "vendored" / "__init__.py")
    write(site / "vendored" / "sub.py")
    write(tmp_path / "main.py")
    resolver = isolated(tmp_path, sys_path=[site])
    vendored = resolver.resolve("vendored")
    assert (vendored.kind, vendored.root) == (ModuleKind.THIRD_PARTY, None)
    assert resolver.resolve("vendored.sub").kind is ModuleKind.THIRD_PARTY
    assert resolver.resolve("main").first_party


def test_an_entry_under_a_root_that_is_not_site_packages_is_first_party(tmp_path):
    # root = the project, `src` on the path (an editable install's .pth): still the app.
    write(tmp_path / "src" / "app" / "__init__.py")
    app = isolated(tmp_path, sys_path=[tmp_path / "src"]).resolve("app")
    assert (app.kind, app.root, app.relative_file()) == (
        ModuleKind.PACKAGE,
        tmp_path,
        "src/app/__init__.py",
    )


# -- missing ------------------------------------------------------------------------------


def test_missing_names(tmp_path):
    write(tmp_path / "app" / "__init__.py")
    write(tmp_path / "app" / "plain.py")
    resolver = Resolver(roots=[tmp_path])
    missing = Resolved("auth_service_zz9", ModuleKind.MISSING, None, None, ())
    assert resolver.resolve("auth_service_zz9") == missing
    assert not missing.first_party
    assert not missing.is_package
    assert resolver.resolve("app.cors_config").kind is ModuleKind.MISSING
    assert resolver.resolve("app.cors_config.deeper").kind is ModuleKind.MISSING
    assert resolver.resolve("auth_service_zz9.sub").kind is ModuleKind.MISSING
    # `app.plain` is a module, not a package: `import app.plain.x` fails.
    assert resolver.resolve("app.plain.x").kind is ModuleKind.MISSING


@pytest.mark.parametrize("name", ["", ".app", "app.", "app..x"])
def test_names_that_cannot_be_imported_are_missing(tmp_path, name):
    write(tmp_path / "app" / "__init__.py")
    assert isolated(tmp_path).resolve(name).kind is ModuleKind.MISSING


# -- robustness ---------------------------------------------------------------------------


def test_roots_that_do_not_exist_or_are_not_directories_are_skipped(tmp_path):
    write(tmp_path / "real" / "mod.py")
    a_file = write(tmp_path / "file.py")
    resolver = isolated(tmp_path / "nowhere", a_file, tmp_path / "real", tmp_path / "real")
    assert resolver.roots == (tmp_path / "real",)
    assert resolver.resolve("mod").root == tmp_path / "real"


def test_relative_roots_are_made_absolute(tmp_path, monkeypatch):
    write(tmp_path / "app" / "mod.py")
    monkeypatch.chdir(tmp_path)
    resolver = isolated(Path("app"))
    assert resolver.roots == (tmp_path / "app",)
    assert resolver.resolve("mod").path == tmp_path / "app" / "mod.py"


def test_broken_symlinks_and_symlink_loops_are_missing_not_errors(tmp_path):
    root = tmp_path / "root"
    write(root / "pkg" / "__init__.py")
    (root / "broken.py").symlink_to(tmp_path / "gone.py")
    (root / "brokendir").symlink_to(tmp_path / "gone")
    (root / "loop").symlink_to(root / "loop")
    (root / "pkg" / "loop.py").symlink_to(root / "pkg" / "loop.py")
    (tmp_path / "looproot").symlink_to(tmp_path / "looproot")
    resolver = isolated(tmp_path / "looproot", root)
    assert resolver.roots == (root,)
    for name in ("broken", "brokendir", "loop", "loop.x", "pkg.loop"):
        assert resolver.resolve(name).kind is ModuleKind.MISSING, name
    assert resolver.resolve("pkg").kind is ModuleKind.PACKAGE


def test_a_symlinked_root(tmp_path):
    real = tmp_path / "real"
    write(real / "app" / "__init__.py")
    write(real / "app" / "views.py")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    resolver = Resolver(roots=[link], sys_path=[str(real), *sys.path])
    assert str(real) not in resolver.sys_path  # the same directory as a root
    views = resolver.resolve("app.views")
    assert (views.kind, views.root, views.relative_file()) == (
        ModuleKind.SOURCE,
        link,
        "app/views.py",
    )


def test_a_package_symlinked_into_a_root_is_first_party(tmp_path):
    # Monorepos link shared code into each service.
    write(tmp_path / "libs" / "shared" / "__init__.py")
    write(tmp_path / "libs" / "shared" / "cors_config.py")
    service = tmp_path / "service"
    service.mkdir()
    (service / "shared").symlink_to(tmp_path / "libs" / "shared", target_is_directory=True)
    found = isolated(service).resolve("shared.cors_config")
    assert (found.kind, found.root, found.relative_file()) == (
        ModuleKind.SOURCE,
        service,
        "shared/cors_config.py",
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unreadable_directory_is_missing_not_an_error(tmp_path):
    write(tmp_path / "locked" / "__init__.py")
    write(tmp_path / "locked" / "inner.py")
    (tmp_path / "locked").chmod(0o000)
    try:
        try:
            list((tmp_path / "locked").iterdir())
        except PermissionError:
            pass
        else:
            pytest.skip("this user reads any directory (root)")
        resolver = isolated(tmp_path, tmp_path / "locked")
        # As in CPython: the directory exists, its __init__.py cannot be seen: a namespace.
        assert resolver.resolve("locked").kind is ModuleKind.NAMESPACE
        assert resolver.resolve("locked.inner").kind is ModuleKind.MISSING
        assert resolver.resolve("inner").kind is ModuleKind.MISSING
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_resolve_is_memoized(tmp_path):
    write(tmp_path / "app" / "__init__.py")
    resolver = isolated(tmp_path)
    first = resolver.resolve("app")
    (tmp_path / "app" / "__init__.py").unlink()
    assert resolver.resolve("app") is first
    assert resolver.resolve("app.x") is resolver.resolve("app.x")


# -- relative imports ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "level", "importer", "is_package", "expected"),
    [
        ("os", 0, "app.api.views", False, "os"),  # absolute: passthrough
        ("a.b", 0, "app", True, "a.b"),
        ("models", 1, "app.api.views", False, "app.api.models"),  # from .models import x
        ("", 1, "app.api.views", False, "app.api"),  # from . import x
        ("core", 2, "app.api.views", False, "app.core"),  # from ..core import x
        ("", 2, "app.api.views", False, "app"),  # from .. import x
        ("x", 3, "app.api.views", False, None),  # beyond the top-level package
        ("models", 1, "app.api", True, "app.api.models"),  # in app/api/__init__.py
        ("", 1, "app.api", True, "app.api"),  # from . import x, in the package itself
        ("core", 2, "app.api", True, "app.core"),
        ("", 3, "app.api.v1", True, "app"),
        ("x", 3, "app.api", True, None),
        ("x", 1, "app", True, "app.x"),  # app/__init__.py: from .x import y
        ("x", 2, "app", True, None),
        ("x", 1, "main", False, None),  # a top-level module has no package
    ],
)
def test_absolute(module, level, importer, is_package, expected):
    assert Resolver.absolute(module, level, importer, is_package) == expected


# -- nothing is executed ------------------------------------------------------------------


def assert_nothing_ran(directory: Path, names: set[str], modules_before: set[str]) -> None:
    assert not list(directory.rglob("EXECUTED"))
    new = set(sys.modules) - modules_before
    assert not {name for name in new if name.split(".")[0] in names}


def test_resolving_never_executes_first_party_code(tmp_path):
    root = tmp_path / "root"
    write(root / "bomb" / "__init__.py", EXPLODING_INIT)
    write(root / "bomb" / "inner" / "__init__.py", EXPLODING_INIT)
    write(root / "bomb" / "inner" / "leaf.py", EXPLODING_INIT)
    write(root / "nsbomb" / "pkg" / "__init__.py", EXPLODING_INIT)
    before = set(sys.modules)
    resolver = Resolver(roots=[root])
    for name in ("bomb.inner.leaf", "bomb.inner.missing", "nsbomb.pkg.x", "bomb.inner"):
        resolver.resolve(name)
    assert resolver.resolve("bomb.inner.leaf").kind is ModuleKind.SOURCE
    assert_nothing_ran(root, {"bomb", "nsbomb"}, before)


def test_resolving_never_executes_third_party_code(tmp_path):
    site = tmp_path / "site"
    write(site / "tpbomb" / "__init__.py", EXPLODING_INIT)
    write(site / "tpbomb" / "sub" / "__init__.py", EXPLODING_INIT)
    write(site / "tpbomb" / "sub" / "leaf.py", EXPLODING_INIT)
    before = set(sys.modules)
    resolver = Resolver(roots=[tmp_path / "app"], sys_path=[str(site), *sys.path])
    leaf = resolver.resolve("tpbomb.sub.leaf")
    assert (leaf.kind, leaf.root) == (ModuleKind.THIRD_PARTY, None)
    assert resolver.resolve("tpbomb.sub.nothing").kind is ModuleKind.MISSING
    assert_nothing_ran(site, {"tpbomb"}, before)


def test_the_global_import_caches_are_left_alone(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    write(one / "ns" / "inner" / "a.py")
    write(two / "ns" / "inner" / "b.py")
    resolver = isolated(one, two, sys_path=[tmp_path / "site"])
    resolver.resolve("ns.inner.a")
    resolver.resolve("ns.inner.b")
    resolver.resolve("nothing_here")
    assert not [key for key in sys.path_importer_cache if str(tmp_path) in str(key)]


# -- finders on sys.meta_path (editable installs) -----------------------------------------


class EditableFinder:
    """A real meta-path finder like setuptools' editable one: a name -> directory map."""

    def __init__(self, mapping: dict[str, Path]) -> None:
        self.mapping = mapping
        self.asked: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.asked.append(fullname)
        if fullname in self.mapping:
            init = self.mapping[fullname] / "__init__.py"
            return importlib.util.spec_from_file_location(fullname, init)
        return None


class BrokenFinder:
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        raise RuntimeError("broken finder")


def test_editable_installs_found_by_meta_path_finders_are_third_party(tmp_path, monkeypatch):
    elsewhere = tmp_path / "checkout" / "edlib"
    write(elsewhere / "__init__.py", EXPLODING_INIT)
    write(elsewhere / "sub.py", EXPLODING_INIT)
    write(tmp_path / "app" / "main.py")
    finder = EditableFinder({"edlib": elsewhere})
    monkeypatch.setattr(sys, "meta_path", [BrokenFinder(), finder, *sys.meta_path])
    before = set(sys.modules)
    resolver = isolated(tmp_path / "app")
    edlib = resolver.resolve("edlib")
    assert (edlib.kind, edlib.root) == (ModuleKind.THIRD_PARTY, None)
    assert edlib.path == elsewhere / "__init__.py"
    assert edlib.search_locations == (elsewhere,)
    sub = resolver.resolve("edlib.sub")
    assert (sub.kind, sub.path) == (ModuleKind.THIRD_PARTY, elsewhere / "sub.py")
    assert resolver.resolve("edlib.other").kind is ModuleKind.MISSING
    assert resolver.resolve("not_mapped").kind is ModuleKind.MISSING
    assert resolver.resolve("main").first_party
    # Only top-level names the path search missed are asked; submodules never.
    assert finder.asked == ["edlib", "not_mapped"]
    assert_nothing_ran(tmp_path, {"edlib"}, before)


def test_a_meta_path_finder_that_raises_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [BrokenFinder(), *sys.meta_path])
    assert isolated(tmp_path).resolve("anything").kind is ModuleKind.MISSING


def test_the_distutils_shim_is_not_asked_its_answer_is_emulated(tmp_path):
    shims = [f for f in sys.meta_path if type(f).__module__ == "_distutils_hack"]
    setuptools = Resolver(roots=[]).resolve("setuptools")
    if not shims or setuptools.path is None:
        pytest.skip("setuptools' distutils shim is not installed here")
    # Without the stdlib on the path (as on Python >= 3.12), `distutils` is the shim's.
    before = set(sys.modules)
    site = setuptools.path.parent.parent
    resolver = isolated(tmp_path, sys_path=[site])
    distutils = resolver.resolve("distutils")
    assert distutils.kind is ModuleKind.THIRD_PARTY
    assert distutils.path == site / "setuptools" / "_distutils" / "__init__.py"
    assert resolver.resolve("distutils.core").kind is ModuleKind.THIRD_PARTY
    assert not {name for name in set(sys.modules) - before if "distutils" in name}
    assert "setuptools" not in set(sys.modules) - before


def test_main_module_always_exists(tmp_path: Path) -> None:
    """`import __main__` never fails: the running program is always `__main__`."""
    assert Resolver([tmp_path], sys_path=[]).resolve("__main__").kind is ModuleKind.STDLIB
