"""Which Procfile commands get tsuru's ``exec`` prefix."""

from __future__ import annotations

import pytest

from services.provisioner.backends.process.unitenv import shell_command


@pytest.mark.parametrize(
    "command",
    [
        "python3 app.py",
        "gunicorn -b 0.0.0.0:$PORT app:app",
        "./run --name 'a b; c'",  # operators inside quotes are words
        'sh -c "echo x && sleep 1"',
    ],
)
def test_simple_commands_are_execed(command: str) -> None:
    assert shell_command(command) == f"exec {command}"


@pytest.mark.parametrize(
    "command",
    [
        "cd src && python3 app.py",
        "python3 a.py; python3 b.py",
        "python3 app.py 2>&1",
        "python3 app.py > out.log",
        "a | b",
        "worker &",
        "for i in 1 2; do echo $i; done",
        "if true; then run; fi",
        "FOO=1 python3 app.py",
        "(cd x; run)",
        "run\nother",
        "exec python3 app.py",
        "echo 'unbalanced",
        "",
    ],
)
def test_compound_commands_are_left_as_written(command: str) -> None:
    assert shell_command(command) == command
