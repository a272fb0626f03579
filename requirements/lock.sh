#!/usr/bin/env bash
# Refresh the lock files from pyproject.toml (exact versions and sha256 hashes of every package).
#   bash requirements/lock.sh
# main.txt: what `pip install` of the project needs; test.txt: the same plus the test tools.
# main.txt is resolved inside test.txt's pins, so the two agree on every shared package.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools" && "$tools/bin/pip" install -q "pip-tools==7.6.2"
compile=("$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url
         --no-emit-find-links --newline LF)
echo "setuptools>=68" > "$tools/build.in"  # the build backend, for `pip install --no-build-isolation -e .`
"${compile[@]}" --extra test -o requirements/test.txt pyproject.toml "$tools/build.in"
"${compile[@]}" -c requirements/test.txt -o requirements/main.txt pyproject.toml "$tools/build.in"
sed -i "s#$tools/build.in#requirements/lock.sh (build backend)#g" requirements/test.txt requirements/main.txt
