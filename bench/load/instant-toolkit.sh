#!/bin/sh
# The "instant Toolkit" of the load benchmarks: a custom command profile (toolkit.profile: custom) whose build,
# dry-run and deploy print real captured Cognite Toolkit 0.9.28 output (test/fixtures/toolkit/0.9.28) at once, so
# what is measured is the orchestration around the commands, not the Toolkit. Usage: instant-toolkit.sh
# build|diff|apply <buildDir>. The build also leaves the build report (insights.json, lineage.yaml) the worker reads.
set -e
F="$(dirname "$0")/../../test/fixtures/toolkit/0.9.28"
case "$1" in
  build)
    mkdir -p "$2"
    cp "$F/build-ok.insights.json" "$2/insights.json"
    cp "$F/build-ok.lineage.yaml" "$2/lineage.yaml"
    cat "$F/build-ok.txt"
    ;;
  diff) cat "$F/dry-run-update-verbose.txt" ;;
  apply) cat "$F/deploy-create.txt" ;;
  *)
    echo "instant-toolkit: unknown step $1" >&2
    exit 2
    ;;
esac
