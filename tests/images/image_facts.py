"""Run inside an image (`python -c`, as the image's user): prints what the image tests
assert on as JSON. Standard library only."""

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

CODE_ROOTS = ("/app", "/opt/venv")


def _walk(root: str) -> list[Path]:
    return [Path(root), *Path(root).rglob("*")]


def _first(paths: list[str], limit: int = 10) -> list[str]:
    return sorted(paths)[:limit]


paths = [path for root in CODE_ROOTS for path in _walk(root)]
app_tree = sorted(
    str(path.relative_to("/app"))
    for path in Path("/app").glob("*/*")
    if "__pycache__" not in path.parts
)
writable = [str(path) for path in paths if os.access(path, os.W_OK)]
compilers = ("gcc", "cc", "g++", "c++", "clang", "make")
print(
    json.dumps(
        {
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
            "secret_like": _first(
                [str(p) for p in Path("/app").rglob("*") if p.suffix in {".pem", ".key", ".env"}]
            ),
        }
    )
)
