#!/usr/bin/env bash
# cfn-lint (PyPI) over CloudFormation templates, from a cached venv in .cache/cfn-lint.
#   bash scripts/cfn-lint.sh <template.json>...   lint (installs cfn-lint the first time, ~30 s)
#   bash scripts/cfn-lint.sh install              install only
# CFN_LINT_PYTHON picks the Python (>= 3.9) to build the venv with (default: python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CFN_LINT_VERSION=1.58.0
VENV=".cache/cfn-lint/venv-${CFN_LINT_VERSION}"
if [ ! -x "$VENV/bin/cfn-lint" ]; then
  echo "cfn-lint: installing cfn-lint==${CFN_LINT_VERSION} into $VENV" >&2
  rm -rf "$VENV"
  "${CFN_LINT_PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check --no-input --quiet "cfn-lint==${CFN_LINT_VERSION}" >&2
fi
[ "${1:-}" = install ] && exit 0
# Errors fail (exit 2 or higher); warnings and informational findings are printed only.
set +e
"$VENV/bin/cfn-lint" --format parseable -- "$@"
rc=$?
set -e
if [ $((rc & 2)) -ne 0 ] || [ $((rc & 1)) -ne 0 ]; then exit 1; fi
exit 0
