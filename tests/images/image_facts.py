"""Run inside an image (`python -c`, as the image's user): prints what the image tests
assert on as JSON. Standard library only. The import closure below is also used on the
host (tests/images/test_dependencies.py), against the development environment."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import sys
import sysconfig
from collections import deque
from functools import cache
from pathlib import Path

CODE_ROOTS = ("/app", "/opt/venv")
# Written by the virtual environment itself (uv venv), owned by no distribution.
VENV_FILES = frozenset({"_virtualenv.py", "_virtualenv.pth"})


def _walk(root: str) -> list[Path]:
    return [Path(root), *Path(root).rglob("*")]


def _first(paths: list[str], limit: int = 10) -> list[str]:
    return sorted(paths)[:limit]


IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def _names(node: ast.AST, package: str) -> list[str]:
    """The modules an import statement (or `import_module("literal")` call) names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            parts = package.split(".") if package else []
            keep = len(parts) - (node.level - 1)
            if keep <= 0:
                return []
            base = ".".join([*parts[:keep], *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        return [base, *(f"{base}.{alias.name}" for alias in node.names)] if base else []
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in {"import_module", "__import__"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        caught = handler.type
        types = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if any(isinstance(t, ast.Name) and t.id in IMPORT_ERRORS for t in types):
            return True
    return False


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def imported_names(path: Path, package: str) -> tuple[frozenset[str], frozenset[str]]:
    """The absolute module names a source file imports when it runs (statically: also
    inside functions), as (required, optional): optional ones are in a `try` that catches
    ImportError, i.e. the code works without them. `if TYPE_CHECKING:` imports never run.
    `package` is the file's own package, for relative imports."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return frozenset(), frozenset()
    required: set[str] = set()
    optional: set[str] = set()
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, is_optional = stack.pop()
        (optional if is_optional else required).update(_names(node, package))
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack += [(child, is_optional) for child in node.orelse]
            continue
        if isinstance(node, ast.Try) and _catches_import_error(node):
            stack += [(child, True) for child in node.body]
            rest = [*node.handlers, *node.orelse, *node.finalbody]
            stack += [(child, is_optional) for child in rest]
            continue
        stack += [(child, is_optional) for child in ast.iter_child_nodes(node)]
    if any(_computed_import(node) for node in ast.walk(tree)):
        # `import_module(name)` with a computed name: the file imports whichever of the
        # module names its string literals spell (requests tries "chardet" and
        # "charset_normalizer" this way).
        required.update(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and all(part.isidentifier() for part in node.value.split("."))
        )
    return frozenset(required), frozenset(optional - required)


def _computed_import(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in {"import_module", "__import__"}
        and bool(node.args)
        and not isinstance(node.args[0], ast.Constant)
    )


def source_imports(roots: list[Path]) -> set[str]:
    """What the service's own code (its .py files under `roots`) imports, minus itself."""
    names: set[str] = set()
    for root in roots:
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for path in files:
            required, optional = imported_names(path, "")
            names |= required | optional
    return {name for name in names if name.split(".")[0] != "apps"}


class SitePackages:
    """The distributions installed in one site-packages folder, by their RECORD files
    (`only`: as if no other distribution were installed)."""

    def __init__(self, site: Path, only: set[str] | None = None) -> None:
        self.site = site
        self.owner: dict[Path, str] = {}  # file (relative to site) -> distribution
        self.files: dict[str, list[Path]] = {}
        for record in sorted(site.glob("*.dist-info/RECORD")):
            dist = record.parent.name.split("-")[0].lower().replace("_", "-")
            if only is not None and dist not in only:
                continue
            for line in record.read_text().splitlines():
                name = line.split(",")[0]
                path = Path(name)
                if not name or path.is_absolute() or ".." in path.parts:
                    continue  # scripts in bin/
                if path.parts[0].endswith(".dist-info") or "__pycache__" in path.parts:
                    continue
                self.owner[path] = dist
                self.files.setdefault(dist, []).append(path)
        self.tops = {
            dist: {path.parts[0].split(".")[0] for path in files}
            for dist, files in self.files.items()
        }
        self.owned_tops = {path.parts[0] for path in self.owner}
        self.modules: dict[str, list[Path]] = {}  # dotted module name -> its files
        for path in self.owner:
            if path.suffix in {".py", ".so"}:
                parts = [*path.parent.parts, path.name.split(".")[0]]
                if parts[-1] == "__init__":
                    parts.pop()
                self.modules.setdefault(".".join(parts), []).append(path)

    def unowned(self) -> list[str]:
        """Top-level entries no distribution installed (apart from the venv's own)."""
        return sorted(
            entry.name
            for entry in self.site.iterdir()
            if not entry.name.endswith(".dist-info")
            and entry.name not in {"__pycache__", *VENV_FILES}
            and entry.name not in self.owned_tops
        )

    def module_files(self, module: str) -> list[Path]:
        """The files of `module` and of each package it is in (relative to site)."""
        parts = module.split(".")
        return [
            path
            for depth in range(1, len(parts) + 1)
            for path in self.modules.get(".".join(parts[:depth]), ())
        ]

    def top_levels(self, dist: str) -> set[str]:
        return self.tops[dist]

    def reached(self, imports: set[str], wanted: frozenset[str] = frozenset()) -> set[str]:
        """The distributions the imports reach, following each reached distribution's
        own imports (its .py sources; compiled modules by the module names they hold).
        A library's optional import reaches a distribution only if it is `wanted` (asked
        for by name in the service's dependency group, as uvloop is for uvicorn)."""
        reached: set[str] = set()
        queue = deque((name, False) for name in sorted(imports))
        seen: set[tuple[str, bool]] = set()
        while queue:
            item = queue.popleft()
            if item in seen:
                continue
            seen.add(item)
            module, is_optional = item
            for path in self.module_files(module):
                dist = self.owner[path]
                if dist in reached or (is_optional and dist not in wanted):
                    continue
                reached.add(dist)
                for file in self.files[dist]:
                    if file.suffix == ".py":
                        package = ".".join(file.parent.parts)
                        required, optional = imported_names(self.site / file, package)
                        queue.extend((name, False) for name in sorted(required))
                        queue.extend((name, True) for name in sorted(optional))
                    elif file.suffix == ".so":
                        compiled = self._compiled_imports(self.site / file, reached)
                        queue.extend((name, False) for name in compiled)
        return reached

    def _compiled_imports(self, path: Path, reached: set[str]) -> list[str]:
        """Top-level modules of other distributions named in an extension module as
        C strings (how PyImport_ImportModule("name") appears in the binary)."""
        data = path.read_bytes()
        strings = set(re.findall(rb"\0([A-Za-z_][A-Za-z0-9_.]*)\0", data))
        return [
            name
            for dist, names in self.tops.items()
            if dist not in reached
            for name in names
            if name.encode() in strings
        ]

    def unused(self, imports: set[str], wanted: frozenset[str] = frozenset()) -> list[str]:
        """Installed distributions that nothing the service imports reaches."""
        reached = self.reached(imports, wanted)
        return sorted(
            f"{dist} ({', '.join(sorted(self.top_levels(dist)))})"
            for dist in self.files
            if dist not in reached
        )


def facts() -> dict[str, object]:
    paths = [path for root in CODE_ROOTS for path in _walk(root)]
    app_tree = sorted(
        str(path.relative_to("/app"))
        for path in Path("/app").glob("*/*")
        if "__pycache__" not in path.parts
    )
    writable = [str(path) for path in paths if os.access(path, os.W_OK)]
    compilers = ("gcc", "cc", "g++", "c++", "clang", "make")
    site = SitePackages(Path(sysconfig.get_paths()["purelib"]))
    imports = source_imports([Path("/app/apps")])
    wanted = frozenset(sys.argv[1:])  # the service group's own entries (pyproject.toml)
    return {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "python": list(sys.version_info[:2]),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "writable": _first(writable),
        "not_root_owned": _first([str(p) for p in paths if p.lstat().st_uid != 0]),
        "compilers": [name for name in compilers if shutil.which(name)],
        "dev_modules": [
            name
            for name in ("pytest", "mypy", "ruff", "uv", "secantus", "pip", "setuptools")
            if importlib.util.find_spec(name) is not None
        ],
        "app_top": sorted(path.name for path in Path("/app").iterdir()),
        "app_tree": app_tree,
        "demo_data": sorted(
            str(p.relative_to("/app"))
            for p in Path("/app/apps").rglob("*.py")
            if {"demo", "devstack", "bench"} & set(p.parts) or p.stem in {"demo", "seed", "bench"}
        ),
        "secret_like": _first(
            [str(p) for p in Path("/app").rglob("*") if p.suffix in {".pem", ".key", ".env"}]
        ),
        "distributions": sorted(site.files),
        "unused_distributions": site.unused(imports, wanted),
        "unowned_modules": site.unowned(),
    }


if __name__ == "__main__":
    print(json.dumps(facts()))
