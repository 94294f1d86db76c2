"""The headless browser of the dashboard's tests: Debian's chromium and chromium-driver.

``python -m scripts.browser prepare`` installs them when missing (as root, with
apt-get; ``make test`` runs it); ``chrome_options(profile_dir)`` are the flags the
tests start chromium with: headless, no sandbox (root in CI), no GPU, no network
of its own (no QUIC, no background or component updates, no sync), a fresh profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = {"chromium": "/usr/bin/chromium", "chromium-driver": "/usr/bin/chromedriver"}
CHROMIUM = PACKAGES["chromium"]
CHROMEDRIVER = PACKAGES["chromium-driver"]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


class BrowserMissing(RuntimeError):
    pass


def missing_packages() -> list[str]:
    return [pkg for pkg, path in PACKAGES.items() if not os.path.exists(path)]


def ensure_packages() -> None:
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserMissing(
            f"{', '.join(missing)} missing; as root: apt-get install -y {' '.join(missing)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *missing]
    print("+", " ".join(install), flush=True)
    if subprocess.run(install, env=env).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    still = missing_packages()
    if still:
        raise BrowserMissing(f"still missing after apt-get install: {', '.join(still)}")


def chrome_flags(profile_dir: str | os.PathLike[str]) -> list[str]:
    return [*FLAGS, f"--user-data-dir={Path(profile_dir)}"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["prepare"]:
        print("usage: python -m scripts.browser prepare", file=sys.stderr)
        return 2
    try:
        ensure_packages()
    except (BrowserMissing, subprocess.CalledProcessError) as exc:
        print(f"browser: {exc}", file=sys.stderr)
        return 1
    print("browser ready: " + CHROMIUM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
