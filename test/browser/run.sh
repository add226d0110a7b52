#!/usr/bin/env bash
# Builds the server, starts it on a free loopback port with a fresh data folder and a
# throwaway admin token, runs the browser test against it, and stops it again.
#
#   test/browser/run.sh            # from anywhere; screenshots go to $ARTIFACTS or a temp folder
#   test/browser/run.sh stream.test.mjs   # only the files named (relative to test/browser)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
export ARTIFACTS="${ARTIFACTS:-$work/artifacts}"
token="browser-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work/data" "$work/optimum" "$work/optimum.yaml"
}
trap cleanup EXIT

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "run.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (Debian: apt-get install -y chromium)" >&2
  exit 1
fi

(cd "$root" && go build -o "$work/optimum" ./cmd/optimum)
(cd "$here" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; })

mkdir -p "$work/data"
# The tests sign in several times from one address within a minute: lift the per-client
# sign-in limit as the Go wrapper (cmd/optimum TestBrowser) does; it is not what they test.
cat >"$work/optimum.yaml" <<'YAML'
limits:
  sign_in_per_client: {per_minute: 600, burst: 100}
  sign_in_per_account: {per_minute: 600, burst: 100}
# A canary whose person is not in the directory: asked for, it fails at once (indicators.test.mjs).
canary:
  schedule: "0 0 0 1 1 *"
  person: canario-navegador@example.com
  channels: [webpush]
YAML
OPTIMUM_ADDR=127.0.0.1:0 OPTIMUM_DATA="$work/data" OPTIMUM_BOOTSTRAP_TOKEN="$token" OPTIMUM_CONFIG="$work/optimum.yaml" \
  OPTIMUM_BRIDGE_NUMBER=+15005550009 \
  "$work/optimum" >"$work/server.log" 2>&1 &
server_pid=$!

url=""
for _ in $(seq 100); do
  url="$(grep -o 'listening on http://[^ "]*' "$work/server.log" | head -1 | sed 's/^listening on //')" || true
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "run.sh: the server did not start; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

echo "run.sh: server at $url, screenshots in $ARTIFACTS"
status=0
(cd "$here" && OPTIMUM_URL="$url" OPTIMUM_TOKEN="$token" node --test "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: server log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
