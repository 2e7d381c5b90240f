"""What a Docker build context holds, as BuildKit and pulumi-docker-build see it.

pulumi-docker-build decides whether an Image changed from a hash over the Dockerfile's
bytes and every file of the build context that the ignore file lets through (path,
mode, content); ``<Dockerfile>.dockerignore`` wins over the context's ``.dockerignore``.
An image tag derived from the same set changes exactly when the provider would rebuild,
so a rebuild never pushes new content under a tag that already exists (ECR tags are
immutable here).

The patterns follow Docker's rules: ``*`` and ``?`` stay within one path segment,
``**`` spans any number of them, ``!`` re-includes, the last matching pattern wins, and
a pattern that matches a folder applies to everything below it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    text: str
    regex: re.Pattern[str]
    exclusion: bool

    def may_reinclude_below(self, folder: str) -> bool:
        """Whether this exclusion could bring back a path under an ignored folder."""
        literal = re.split(r"[*?\[\\]", self.text, maxsplit=1)[0]
        return literal.startswith(folder + "/") or folder.startswith(literal) or not literal


def _compile(text: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if text.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = text.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = text[i + 1 : end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[" + body.replace("!", "^", 1) + "]")
                i = end
        elif char == "\\" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def parse_ignore_file(text: str) -> list[Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = os.path.normpath(line).lstrip("/")
        if cleaned in ("", "."):
            continue
        patterns.append(Pattern(cleaned, _compile(cleaned), exclusion))
    return patterns


def _parents_and_self(relative: str) -> Iterator[str]:
    parts = relative.split("/")
    for end in range(1, len(parts) + 1):
        yield "/".join(parts[:end])


def ignored(relative: str, patterns: list[Pattern]) -> bool:
    """Docker's verdict for one path relative to the context root."""
    verdict = False
    candidates = list(_parents_and_self(relative))
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            verdict = not pattern.exclusion
    return verdict


@dataclass(frozen=True)
class BuildContext:
    """One image's build: the repository root, the context folder and the Dockerfile
    (both relative to the root), and the build arguments."""

    root: Path
    context: str
    dockerfile: str
    build_args: Mapping[str, str]

    @cached_property
    def patterns(self) -> list[Pattern]:
        specific = self.root / (self.dockerfile + ".dockerignore")
        general = self.root / self.context / ".dockerignore"
        for candidate in (specific, general):
            if candidate.is_file():
                return parse_ignore_file(candidate.read_text())
        return []

    def files(self) -> list[str]:
        """Every file the context sends, relative to the context folder, sorted."""
        base = self.root / self.context
        found: list[str] = []
        for folder, dirs, names in os.walk(base):
            here = Path(folder).relative_to(base).as_posix()
            prefix = "" if here == "." else here + "/"
            dirs[:] = [d for d in dirs if not self._prunable(prefix + d)]
            dirs.sort()
            found.extend(
                prefix + name for name in names if not ignored(prefix + name, self.patterns)
            )
        return sorted(found)

    def _prunable(self, folder: str) -> bool:
        """An ignored folder that no exclusion pattern can re-include from."""
        return ignored(folder, self.patterns) and not any(
            p.exclusion and p.may_reinclude_below(folder) for p in self.patterns
        )

    def digest(self) -> str:
        """Changes whenever the provider would see a changed context, Dockerfile or
        build argument (a superset of its own hash)."""
        h = hashlib.sha256()
        h.update((self.root / self.dockerfile).read_bytes())
        for key, value in sorted(self.build_args.items()):
            h.update(f"\0arg\0{key}={value}".encode())
        base = self.root / self.context
        for relative in self.files():
            path = base / relative
            mode = path.lstat().st_mode
            h.update(f"\0file\0{relative}\0{stat.S_IMODE(mode) & 0o111:o}\0".encode())
            h.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())
        return h.hexdigest()
