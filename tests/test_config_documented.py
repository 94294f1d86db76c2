"""Every TSUBAME_* variable the code reads is a row of README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Names that look like variables but are Flask config keys, not environment.
NOT_ENVIRONMENT = {"TSUBAME_CONTEXT", "TSUBAME_SETTINGS"}


def variables_in_code() -> set[str]:
    found: set[str] = set()
    for folder in ("shared", "gateway", "services", "scripts", "deploy"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts:
                continue
            found |= set(re.findall(r"TSUBAME_[A-Z0-9_]+(?![*A-Z0-9_])", path.read_text()))
    return found - NOT_ENVIRONMENT


def test_every_variable_is_documented_in_the_readme_table():
    table = {
        m for m in re.findall(r"^\| `(TSUBAME_[A-Z0-9_]+)`", (ROOT / "README.md").read_text(), re.M)
    }
    undocumented = sorted(variables_in_code() - table)
    assert undocumented == []
    assert "TSUBAME_PORT" in table
