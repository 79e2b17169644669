#!/usr/bin/env bash
# Monomesh benchmarks: one command (make bench). Prints medians of several rounds.
# First: config reading/validation throughput (the config model that Galley and Pilot share).
# Then the proxy vs nginx/HAProxy over HTTP/1.1 and HTTP/2, and a two-sidecar mutual-TLS chain;
# then Pilot with thousands of simulated sidecars (bench/pilot_bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MONOMESH_BIN:-./build/cmd/monomesh/monomesh}
ROUNDS=${ROUNDS:-5}
[ -x "$BIN" ] || { echo "bench: build first (make build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Reading and validating config: bench/validate/validate_bench (built on demand, ~6 s of CPU).
BUILD_DIR=${BUILD_DIR:-$(dirname "$(dirname "$(dirname "$BIN")")")}
echo "config: reading YAML into typed objects and Istio 1.1 validation, one core"
if ninja -C "$BUILD_DIR" validate_bench >/dev/null; then
  taskset -c 0 "$BUILD_DIR/bench/validate_bench" --objects 16000 --rounds 3
else
  echo "  (could not build validate_bench in $BUILD_DIR; skipped)"
fi

echo
echo "proxy: monomesh vs nginx vs HAProxy (HTTP/1.1, one core each), and the floor (bench/floor)"
ninja -C "$BUILD_DIR" floor_proxy fixed_rate >/dev/null || echo "  (could not build floor_proxy and fixed_rate; the floor column is left out, h2load times the latencies)"
python3 bench/proxy_bench.py --rounds "${ROUNDS_PROXY:-3}" --seconds "${SECONDS_PROXY:-5}"

echo
echo "proxy: HTTP/2 (h2c) vs nginx vs HAProxy, and two sidecars joined by mutual TLS"
python3 bench/h2_bench.py --rounds "${ROUNDS_PROXY:-3}" --seconds "${SECONDS_PROXY:-5}"

echo
echo "pilot: synthetic meshes (1,000 and 10,000 services) and thousands of simulated sidecars over ADS"
# The load client is a bench target, not part of `all`: build it beside the binary under test.
build_dir=$(dirname "$(dirname "$(dirname "$BIN")")")
export MONOMESH_BIN="$BIN"
export MONOMESH_ADS_LOAD_CLIENT=${MONOMESH_ADS_LOAD_CLIENT:-$build_dir/bench/ads_load_client}
[ -x "$MONOMESH_ADS_LOAD_CLIENT" ] || ninja -C "$build_dir" ads_load_client >/dev/null
python3 bench/pilot_bench.py --repeats "${ROUNDS_PILOT:-5}"
