#!/bin/bash
# Crash harness (bench/crash-harness.ts): the apply command of its Toolkit profile. Records every `cdf deploy`
# against a CDF project in <journal dir>/<project>.journal, and an "overlap" line when another deploy's process
# group is still alive as this one starts. The worker starts each command in a process group of its own, so this
# script's pid is its group: a dead worker's deploy that goes on running keeps that group alive.
# usage: deploy-journal.sh <journal dir> <cdf project> <command...>
set -u
export PATH="/usr/bin:/bin:${PATH:-}"
dir=$1
project=$2
shift 2
active="$dir/$project.active"
journal="$dir/$project.journal"
mkdir -p "$active"
me=$$
ms() { date +%s%3N; }
# Registered before looking, so two deploys that start together both see each other.
: >"$active/$me"
echo "$(ms) start $me $*" >>"$journal"
for f in "$active"/*; do
  other=${f##*/}
  [ -e "$f" ] && [ "$other" != "$me" ] || continue
  # A live deploy of this project in that group. Zombies do not count (in a container whose pid 1 does not reap, a
  # killed deploy stays a zombie), nor an unrelated group that reused the pid (pid_max may be small).
  if ps -A -o pgid=,stat=,args= |
    awk -v g="$other" -v p="$project" '$1 == g && $2 !~ /^Z/ && / deploy / && index($0, p) { found = 1 } END { exit !found }'; then
    echo "$(ms) overlap $me $other" >>"$journal"
  fi
done
"$@"
rc=$?
rm -f "$active/$me"
echo "$(ms) end $me $rc" >>"$journal"
exit $rc
