#!/usr/bin/env bash
# Installs every Debian 12 package that Monomesh's build, tests and benchmarks need, and the npm
# packages of the JavaScript xDS test client (test/integration/xds_client_js, from its lock file).
# Idempotent and quiet: it prints nothing when nothing is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-test1.81-dev
  libssl-dev libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libspdlog-dev libfmt-dev libnghttp2-dev libre2-dev
  # real peers for integration tests and benchmarks
  curl openssl python3 python3-grpcio python3-protobuf python3-h2
  nginx-light haproxy wrk nghttp2-client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the @grpc/grpc-js xDS client. Any node and npm on PATH will do (a machine may have
# them from elsewhere, with npm inside its nodejs package); otherwise Debian's.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

install_npm_packages() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test/integration/xds_client_js"
  # npm ci writes node_modules/.package-lock.json: newer than the lock file means up to date.
  [ -f "$dir/node_modules/.package-lock.json" ] && [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ] && return 0
  echo "setup: installing the npm packages of $dir"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    echo "setup: npm ci failed in $dir; the grpc-js xDS test will say it is skipped" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on install; the tests start their own instances on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx haproxy >/dev/null 2>&1 || true; fi
service nginx stop >/dev/null 2>&1 || true
service haproxy stop >/dev/null 2>&1 || true
install_npm_packages
