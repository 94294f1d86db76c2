"""What a platform's Dockerfile starts from (its ``FROM`` lines), read without Docker.

No registry is reachable from the docker nodes: every image a ``FROM`` names must
already be on the engines (or be another platform's image that the provisioner can
build), so the provisioner reads them before it asks an engine to build.
"""

from __future__ import annotations

import re

_FROM = re.compile(r"^\s*from\s+(.*)$", re.IGNORECASE)
# An image reference as an engine takes it (no variable, nothing that starts a line).
IMAGE_REF = re.compile(r"^[a-z0-9][a-z0-9._/:@-]{0,254}$")


def _logical_lines(text: str) -> list[str]:
    """Lines with their continuations (a trailing backslash) joined, comments dropped."""
    out: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not current and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return out


def base_images(dockerfile: str) -> list[str]:
    """The images the ``FROM`` lines name, in order, without the stages the Dockerfile
    names itself (``FROM <stage>`` after ``FROM x AS <stage>``) nor ``scratch``."""
    stages: set[str] = set()
    found: list[str] = []
    for line in _logical_lines(dockerfile):
        match = _FROM.match(line)
        if match is None:
            continue
        words = [w for w in match.group(1).split() if not w.startswith("--")]
        if not words:
            continue
        image = words[0]
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if image.lower() in stages or image.lower() == "scratch":
            continue
        if image not in found:
            found.append(image)
    return found


def with_base(dockerfile: str, base: str, image: str) -> str:
    """``dockerfile`` with every ``FROM base`` made ``FROM image`` (its flags and line
    continuations kept); nothing else changes, a RUN line's words included."""
    pattern = re.compile(
        r"(?i)\A([ \t]*from[ \t]+(?:(?:--\S+|\\\r?\n)[ \t]*)*)" + re.escape(base) + r"(?=\s|\Z)"
    )
    lines = dockerfile.splitlines(keepends=True)
    out: list[str] = []
    start = 0
    while start < len(lines):
        end = start  # one instruction: its line and the lines it continues on
        if not lines[start].lstrip().startswith("#"):
            while end + 1 < len(lines) and lines[end].rstrip().endswith("\\"):
                end += 1
        out.append(pattern.sub(lambda m: m.group(1) + image, "".join(lines[start : end + 1])))
        start = end + 1
    return "".join(out)
