#!/usr/bin/env bash
# Installs the OCSF validator the tests run (pydantic-ocsf, pinned with its dependencies in
# test/ocsf/requirements.txt) into a virtualenv under the test cache, once per requirements file;
# prints the virtualenv's python. The tests name this script when the validator is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${XDG_CACHE_HOME:-$HOME/.cache}/tw-webhooks/ocsf-validator-$(sha256sum test/ocsf/requirements.txt | cut -c1-12)
if [[ ! -f $venv/installed ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --requirement test/ocsf/requirements.txt >&2
  "$venv/bin/python" -c 'import ocsf.v1_7_0.events' && touch "$venv/installed"
fi
echo "$venv/bin/python"
