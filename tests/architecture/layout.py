"""Where the code is: every service folder, every module, their imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A service is a folder of services/ with a composition root; a new one is found here.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/bootstrap.py"))
APPLICATION = ("shared", "gateway", "services")


def modules(*folders: str) -> Iterator[Path]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ".venv" not in path.parts:
                yield path


def is_test(path: Path) -> bool:
    rel = path.relative_to(ROOT).parts
    return "tests" in rel or path.name == "conftest.py"


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield node.lineno, ".".join([*base, node.module or ""]).rstrip(".")
            else:
                yield node.lineno, node.module or ""


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))
