#!/usr/bin/env bash
# What `dump --live` costs: dump's CPU time per request receiving the same load with and
# without the live view (under `script`, which gives it a terminal), alternating, RUNS each.
# The load is `send --count REQUESTS` (60 metrics from 50 hosts per request, 8 workers), so
# dump writes OTLP JSON to a file in both cases and the view draws once a second.
#
#   bench/dump-live.sh
#   RUNS=5 REQUESTS=40000 bench/dump-live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-20000}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14320}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v script >/dev/null || { echo "needs script(1) (util-linux) for a terminal" >&2; exit 1; }
cargo build --release --quiet --bin metricsender
BIN=$PWD/target/release/metricsender
mkdir -p "$DIR"
: > "$DIR/dump-live-results.txt"
# The view's keyboard: a FIFO held open and never written, so no key ever arrives.
rm -f "$DIR/live-keys"; mkfifo "$DIR/live-keys"; exec 3<>"$DIR/live-keys"

for run in $(seq "$RUNS"); do
  for mode in plain live; do
    rm -f "$DIR/live-dumped"
    flag=""; [ "$mode" = live ] && flag="--live"
    # dump stops by itself after the requests (--count); script gives it a 120x40 terminal.
    script -qfec "stty cols 120 rows 40; /usr/bin/time -f '%U %S' -o $DIR/live-time.txt \
      $BIN dump $flag --listen 127.0.0.1:$PORT -o $DIR/live-dumped --count $REQUESTS --progress never" \
      /dev/null > "$DIR/live-screen.txt" 2>&1 < "$DIR/live-keys" &
    dump=$!
    sleep 0.5
    "$BIN" send --count "$REQUESTS" --hosts 50 --metrics-per-payload 60 -w 8 \
      -e "http://127.0.0.1:$PORT" --summary json > "$DIR/live-send.json" 2>/dev/null
    wait "$dump" || true
    cpu=$(awk '{print $1 + $2}' "$DIR/live-time.txt")
    echo "$mode $cpu" >> "$DIR/dump-live-results.txt"
    python3 - "$mode" "$run" "$cpu" "$REQUESTS" <<'PY'
import sys
mode, run, cpu, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
print(f"{mode:5} run={run} dump_cpu_s={cpu:6.2f} cpu_per_request_us={cpu / n * 1e6:7.1f}")
PY
  done
done
python3 - "$DIR/dump-live-results.txt" "$REQUESTS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
med = {m: statistics.median(float(c) for k, c in rows if k == m) for m in ("plain", "live")}
print(f"median CPU per request: plain {med['plain']/n*1e6:.1f} µs, live {med['live']/n*1e6:.1f} µs "
      f"({(med['live']/med['plain'] - 1) * 100:+.1f} %)")
PY
