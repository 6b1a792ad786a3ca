#!/usr/bin/env bash
# Load test of the public read endpoints against `trustfund serve --demo`.
#
# Builds the release binary, starts it on a free loopback port (port 0; the
# address is read back from the "trustfund is serving on http://…" line)
# with a throwaway data directory and the demo estate, then drives each
# endpoint for DURATION seconds with wrk, or with scripts/http_load.py
# (Python 3 standard library only) when wrk cannot be had. Prints requests/s
# and latency percentiles, stops the server and deletes the data directory.
#
# Loopback only, bounded in time, stops by itself.
#
#   scripts/load.sh                     # 10 s per endpoint, 2 threads, 16 connections
#   DURATION=5 CONNECTIONS=8 scripts/load.sh
#   LOAD_CLIENT=python scripts/load.sh  # force the Python client
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-10}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
LOAD_CLIENT="${LOAD_CLIENT:-auto}"
# Start-up includes writing the demo (~6,000 entries) and auditing it.
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-180}"

PATHS=(
  "/estates/dongfang/log/checkpoint"
  "/estates/dongfang/log/proof/inclusion?index=1234&size=5000"
  "/estates/dongfang/log/entries?start=0&end=1000"
  "/api/v1/estates"
)

for n in "$DURATION" "$THREADS" "$CONNECTIONS"; do
  if ! [[ "$n" =~ ^[1-9][0-9]{0,3}$ ]]; then
    echo "load.sh: DURATION, THREADS and CONNECTIONS must be small positive integers" >&2
    exit 2
  fi
done

echo "== building (release)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin trustfund
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/trustfund"
[[ -x "$BIN" ]] || { echo "load.sh: no binary at $BIN" >&2; exit 1; }

DATA="$(mktemp -d -t trustfund-load.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    # SIGINT is the server's graceful shutdown; give it a moment, then insist.
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

echo "== starting trustfund serve --demo (data dir $DATA)"
# SQLite in the temp dir: a DATABASE_URL from the caller's shell must not
# point the load at a real database.
env -u DATABASE_URL -u TRUSTFUND_LISTEN -u TRUSTFUND_DATA_DIR RUST_LOG=warn \
  "$BIN" serve --demo --listen 127.0.0.1:0 --data-dir "$DATA" \
  >"$DATA/stdout.log" 2>"$DATA/stderr.log" &
SERVER_PID=$!

BASE=""
for _ in $(seq 1 $((STARTUP_TIMEOUT * 5))); do
  line="$(grep -m1 -o 'trustfund is serving on http://127\.0\.0\.1:[0-9]*' "$DATA/stdout.log" || true)"
  if [[ -n "$line" ]]; then
    BASE="${line#trustfund is serving on }"
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "load.sh: the server exited during start-up:" >&2
    cat "$DATA/stdout.log" "$DATA/stderr.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [[ -z "$BASE" ]]; then
  echo "load.sh: no 'trustfund is serving on' line within ${STARTUP_TIMEOUT}s" >&2
  exit 1
fi
grep -h "demo estate" "$DATA/stdout.log" || true
echo "== serving on $BASE"

# Each endpoint must answer 200 before it is measured: a load test of
# error responses measures nothing useful.
for p in "${PATHS[@]}"; do
  python3 - "$BASE$p" <<'PY'
import sys, urllib.request
url = sys.argv[1]
with urllib.request.urlopen(url, timeout=10) as r:
    body = r.read()
    if r.status != 200:
        sys.exit(f"{url}: HTTP {r.status}")
print(f"   ok {r.status} {len(body):>7} bytes  {url}")
PY
done

if [[ "$LOAD_CLIENT" == "auto" ]]; then
  if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "== wrk is missing; installing it with apt-get"
    apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; } \
      || echo "   could not install wrk; using the Python client"
  fi
  if command -v wrk >/dev/null 2>&1; then LOAD_CLIENT=wrk; else LOAD_CLIENT=python; fi
fi

echo "== load: $LOAD_CLIENT, ${DURATION}s per endpoint, $THREADS threads, $CONNECTIONS connections"
printf '%-62s %10s %9s %9s %9s %9s %7s\n' endpoint "req/s" p50 p90 p99 max errors
for p in "${PATHS[@]}"; do
  url="$BASE$p"
  if [[ "$LOAD_CLIENT" == "wrk" ]]; then
    out="$(timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")"
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p90="$(awk '$1 == "90%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    max="$(awk '$1 == "Latency" && NF >= 4 {print $4; exit}' <<<"$out")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
    sockerr="$(awk '/Socket errors:/ {s = 0; for (i = 3; i <= NF; i += 2) s += $(i + 1); print s}' <<<"$out" | tr -d ',')"
    errors=$(( ${non2xx:-0} + ${sockerr:-0} ))
    row="$(printf '%-62s %10s %9s %9s %9s %9s %7s' "$p" "$rps" "$p50" "$p90" "$p99" "$max" "$errors")"
  else
    row="$(timeout $((DURATION + 30)) python3 "$ROOT/scripts/http_load.py" \
      --duration "$DURATION" --connections "$CONNECTIONS" --label "$p" "$url")"
  fi
  echo "$row"
done

echo "== server resident memory after the load"
ps -o rss=,vsz= -p "$SERVER_PID" | awk '{printf "   rss %.1f MiB, vsz %.1f MiB\n", $1/1024, $2/1024}'
echo "== stopping the server"
