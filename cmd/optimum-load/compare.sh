#!/usr/bin/env bash
# Measures the whole server against the bare reference hub, in one sitting, the way
# docs/benchmarks.md ("Through the whole server") describes: the server (or the bare hub)
# pinned to CPU 1, optimum-load pinned to CPU 0, clients on loopback, declarations at a
# fixed rate; every scenario RUNS times, bare and OPTIMUM alternating, each on a fresh
# process (so its memory per idle connection is measured from its start).
#
#   cmd/optimum-load/compare.sh                 # all three scenarios, 3 runs each
#   SCENARIOS="10000:2:40:4" RUNS=1 cmd/optimum-load/compare.sh
#
# A scenario is CLIENTS:RATE:DECLARES:WARMUP. The JSON reports go to $OUT (default a temp
# folder); a summary line per run is printed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-$(mktemp -d)}"
RUNS="${RUNS:-3}"
SCENARIOS="${SCENARIOS:-10000:2:40:4 10000:10:150:20 19000:10:150:20}"
SERVER_CPU="${SERVER_CPU:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
mkdir -p "$OUT"
(cd "$root" && go build -o "$OUT/optimum" ./cmd/optimum && go build -o "$OUT/optimum-load" ./cmd/optimum-load)
cat >"$OUT/load.yaml" <<'YAML'
# Load runs only: the default limits would refuse most declarations (429) and streams.
limits:
  declare_per_client: {per_minute: 600000, burst: 10000}
  declare_per_actor: {per_minute: 600000, burst: 10000}
stream:
  max_per_token: 20000
YAML
# STREAM_COALESCE=15ms tries another stream.coalesce (how long the hub waits for more
# events after one, so they reach a client in one write).
if [ -n "${STREAM_COALESCE:-}" ]; then echo "  coalesce: $STREAM_COALESCE" >>"$OUT/load.yaml"; fi
token="compare-load-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

port=18100
summary() { # kind scenario run file
  python3 - "$@" <<'PY'
import json, sys
kind, sc, run, f = sys.argv[1:]
r = json.load(open(f))
s = r.get("server") or {}
print(f"{kind:8} {sc:18} run {run}  last p50 {r['last_ms']['p50']:8.1f} p99 {r['last_ms']['p99']:8.1f} ms"
      f"  response p99 {r['response_ms']['p99']:7.1f} ms  {r['deliveries_per_s']:9.0f} deliveries/s"
      f"  missing {r['missing']}  publish errors {r['publish_errors']}"
      f"  {s.get('rss_per_conn_kib', 0):5.1f} KiB/conn  {s.get('cpu_per_delivery_us', 0):5.1f} µs/delivery"
      f"  {r.get('writes_per_delivery', 0):4.2f} writes/delivery")
PY
}
for sc in $SCENARIOS; do
  IFS=: read -r clients rate declares warmup <<<"$sc"
  for run in $(seq 1 "$RUNS"); do
    for kind in bare optimum; do
      port=$((port + 1))
      if [ "$kind" = bare ]; then
        taskset -c "$SERVER_CPU" "$OUT/optimum-load" bare-hub -addr "127.0.0.1:$port" >"$OUT/$kind.log" 2>&1 &
      else
        rm -rf "$OUT/data"
        OPTIMUM_DATA="$OUT/data" OPTIMUM_ADDR="127.0.0.1:$port" OPTIMUM_CONFIG="$OUT/load.yaml" \
          OPTIMUM_BOOTSTRAP_TOKEN="$token" OPTIMUM_LOG_LEVEL=warn \
          taskset -c "$SERVER_CPU" "$OUT/optimum" >"$OUT/$kind.log" 2>&1 &
      fi
      pid=$!
      for _ in $(seq 100); do grep -q "listening on" "$OUT/$kind.log" && break; sleep 0.1; done
      sleep 1
      f="$OUT/$kind-$clients-$rate-$run.json"
      echo "# $(date -u +%H:%M:%S) $kind $sc run $run; $(uptime | sed 's/.*load/load/')" >&2
      taskset -c "$LOAD_CPU" "$OUT/optimum-load" -url "http://127.0.0.1:$port" -token "$token" \
        -clients "$clients" -rate "$rate" -declares "$declares" -warmup "$warmup" -timeout 60s \
        -server-pid "$pid" -json >"$f" 2>"$OUT/load.err" || { cat "$OUT/load.err" >&2; exit 1; }
      summary "$kind" "${clients}@${rate}/s" "$run" "$f"
      kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
      sleep 2
    done
  done
done
echo "reports in $OUT" >&2
