#!/usr/bin/env bash
# A stand-in for `python3` in the Toolkit installer tests: no network, no real Python packages.
#
#   fake-python.sh -m venv DIR
#       Creates DIR/bin/python as a copy of this script, so `DIR/bin/python -m pip ...` comes back here.
#   DIR/bin/python -m pip install [options] cognite-toolkit==V [extras...]
#       Appends one line with all its arguments to $FAKE_PIP_LOG (when set), sleeps $FAKE_PIP_SLEEP seconds
#       (when set), then
#         - fails like pip with "No matching distribution found" when V is in $FAKE_PIP_MISSING (space separated),
#         - fails like pip with a network error when FAKE_PIP_OFFLINE=1,
#         - otherwise writes DIR/bin/cdf, which prints "CDF-Toolkit version: V.".
#
# The installer gives its children a minimal environment, so tests pass the FAKE_* variables through the
# installer's `childEnv` constructor argument.
set -euo pipefail

self="${BASH_SOURCE[0]}"

if [[ "${1:-}" == "-m" && "${2:-}" == "venv" && -n "${3:-}" ]]; then
  dir="$3"
  mkdir -p "$dir/bin"
  cp "$self" "$dir/bin/python"
  chmod +x "$dir/bin/python"
  exit 0
fi

if [[ "${1:-}" == "-m" && "${2:-}" == "pip" && "${3:-}" == "install" ]]; then
  bin_dir="$(cd "$(dirname "$self")" && pwd)"
  version=""
  for arg in "${@:4}"; do
    if [[ "$arg" == cognite-toolkit==* ]]; then version="${arg#cognite-toolkit==}"; fi
  done
  if [[ -n "${FAKE_PIP_LOG:-}" ]]; then echo "$*" >>"$FAKE_PIP_LOG"; fi
  if [[ -n "${FAKE_PIP_SLEEP:-}" ]]; then sleep "$FAKE_PIP_SLEEP"; fi
  if [[ -z "$version" ]]; then
    echo "fake-python: pip install without cognite-toolkit==<version>: $*" >&2
    exit 2
  fi
  for missing in ${FAKE_PIP_MISSING:-}; do
    if [[ "$missing" == "$version" ]]; then
      echo "ERROR: Could not find a version that satisfies the requirement cognite-toolkit==$version (from versions: 0.8.271, 0.9.28)" >&2
      echo "ERROR: No matching distribution found for cognite-toolkit==$version" >&2
      exit 1
    fi
  done
  if [[ "${FAKE_PIP_OFFLINE:-}" == "unreachable-index" ]]; then
    # What pip prints when it cannot reach the index at all: it saw no versions.
    echo "ERROR: Could not find a version that satisfies the requirement cognite-toolkit==$version (from versions: none)" >&2
    echo "ERROR: No matching distribution found for cognite-toolkit==$version" >&2
    exit 1
  fi
  if [[ "${FAKE_PIP_OFFLINE:-}" == "1" ]]; then
    echo "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError': /simple/cognite-toolkit/" >&2
    echo "ERROR: Could not install packages due to an OSError: [Errno 101] Network is unreachable" >&2
    exit 1
  fi
  cat >"$bin_dir/cdf" <<EOF
#!/usr/bin/env bash
if [[ "\${1:-}" == "--version" ]]; then echo "CDF-Toolkit version: $version."; exit 0; fi
echo "fake cdf $version: \$*"
EOF
  chmod +x "$bin_dir/cdf"
  exit 0
fi

echo "fake-python: unsupported invocation: $*" >&2
exit 2
