#!/usr/bin/env bash
# Create the project's virtualenv with Python 3.11; on Debian, as root, install the
# venv module first when it is missing (python3.11-venv / python3-venv).
set -euo pipefail

py="${1:-python3.11}"
venv="${2:-.venv}"

if ! command -v "$py" >/dev/null 2>&1; then
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        py=python3
    else
        echo "Python 3.11 is required ($py not found); install python3.11 or pass PYTHON=..." >&2
        exit 1
    fi
fi

if "$py" -m venv "$venv" 2>/dev/null && [ -x "$venv/bin/pip" ]; then
    exit 0
fi
rm -rf "$venv"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "The venv module is missing: installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y python3.11-venv || apt-get install -y python3-venv
    "$py" -m venv "$venv"
else
    echo "'$py -m venv' failed: install the python3.11-venv package" >&2
    exit 1
fi
