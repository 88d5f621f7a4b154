#!/usr/bin/env bash
# Run site.yml on the lab twice: the first run converges, the second must change nothing.
# Prints both durations and the second run's changed count; exits non-zero if it is not 0.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${KUBEBIN_LAB_STATE:-$ROOT/.state/lab}
INVENTORY=${1:-$ROOT/inventories/lab}
mkdir -p "$STATE"
cd "$ROOT"

run() {
  local n=$1 start rc=0
  start=$(date +%s)
  echo "== site.yml run $n on $INVENTORY (log: $STATE/site-run$n.log)"
  ansible-playbook site.yml -i "$INVENTORY" >"$STATE/site-run$n.log" 2>&1 || rc=$?
  echo $(( $(date +%s) - start )) >"$STATE/site-run$n.seconds"
  sed -n '/^PLAY RECAP/,/^$/p' "$STATE/site-run$n.log"
  if [ "$rc" -ne 0 ]; then
    echo "site.yml run $n failed (rc=$rc); last lines of $STATE/site-run$n.log:" >&2
    tail -40 "$STATE/site-run$n.log" >&2
    exit "$rc"
  fi
}

changed_total() {
  sed -n '/^PLAY RECAP/,/^$/p' "$STATE/site-run$1.log" \
    | grep -oE 'changed=[0-9]+' | cut -d= -f2 | awk '{s+=$1} END {print s+0}'
}

run 1
run 2
first=$(cat "$STATE/site-run1.seconds"); second=$(cat "$STATE/site-run2.seconds")
changed=$(changed_total 2)
echo
echo "first run:  ${first}s, changed=$(changed_total 1)"
echo "second run: ${second}s, changed=${changed} (must be 0); $(( 100 * second / (first > 0 ? first : 1) ))% of the first"
[ "$changed" -eq 0 ] || { echo "the second run changed something: not idempotent" >&2; exit 1; }
