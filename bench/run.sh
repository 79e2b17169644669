#!/usr/bin/env bash
# Monomesh benchmarks: one command (make bench). Prints medians of several rounds.
# Today: config loading/validation throughput (the config model that Galley and Pilot share).
# Then the proxy vs nginx/HAProxy over HTTP/1.1 and HTTP/2, and a two-sidecar mutual-TLS chain.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MONOMESH_BIN:-./build/cmd/monomesh/monomesh}
ROUNDS=${ROUNDS:-5}
[ -x "$BIN" ] || { echo "bench: build first (make build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 bench/gen_config.py 20000 > "$work/mesh.yaml"
objects=$(grep -c '^kind:' "$work/mesh.yaml")

echo "config validation: $objects Istio objects (VirtualService + DestinationRule), one core"
rates=()
for _ in $(seq "$ROUNDS"); do
  start=$(date +%s.%N)
  taskset -c 0 "$BIN" validate -f "$work/mesh.yaml" >/dev/null
  end=$(date +%s.%N)
  rates+=("$(python3 -c "print(int($objects/($end-$start)))")")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "  rounds (objects/s): ${rates[*]}"
echo "  median: $median objects/s per core  (Galley target: >= 50000; ratio $(python3 -c "print(round($median/50000,2))")x)"

echo
echo "proxy: monomesh vs nginx vs HAProxy (HTTP/1.1, one core each)"
python3 bench/proxy_bench.py --rounds "${ROUNDS_PROXY:-3}" --seconds "${SECONDS_PROXY:-5}"

echo
echo "proxy: HTTP/2 (h2c) vs nginx vs HAProxy, and two sidecars joined by mutual TLS"
python3 bench/h2_bench.py --rounds "${ROUNDS_PROXY:-3}" --seconds "${SECONDS_PROXY:-5}"
