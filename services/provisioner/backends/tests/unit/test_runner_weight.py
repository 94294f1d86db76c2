"""The unit runner stays light: one lives beside every unit for as long as it runs, so
each module it imports is paid once per unit (bench/process_backend.py measures it)."""

from __future__ import annotations

import json
import subprocess
import sys

from services.provisioner.backends.process import launch

# Modules that made a runner weigh ~2 MiB more each time (RSS and PSS of an idle one);
# the runner does without them.
HEAVY = ("subprocess", "typing", "datetime", "pathlib", "random", "threading")


def test_the_runner_imports_no_heavy_module() -> None:
    # How the runner starts (launch._RUNNER_BOOT), then what it imported instead of main().
    boot = launch._RUNNER_BOOT.replace("sys.exit(main(sys.argv[1:]))", "")
    probe = boot + "import json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, launch.CODE_ROOT],
        capture_output=True,
        text=True,
        env=launch.CLEAN_ENV,
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert "services.provisioner.backends.process.runner" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []
