#!/usr/bin/env bash
# dump's ingest rate: `replay` of the benchmark capture into `dump --format otlp-json` writing
# to a file. Every request is written and flushed before dump answers, so the replay's rate is
# dump's ingest rate. Run bench/e2e.sh first (it generates the capture).
#
#   bench/dump.sh                 # FORMAT=gosight bench/dump.sh for the other output
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
WORKERS=${WORKERS:-16}
FORMAT=${FORMAT:-otlp-json}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14318}
CAPTURE="$DIR/capture-300mb.ndjson"
[ -s "$CAPTURE" ] || { echo "run bench/e2e.sh first to generate $CAPTURE" >&2; exit 1; }
cargo build --release --quiet --bin metricsender
BIN=target/release/metricsender
PAYLOADS=$(wc -l < "$CAPTURE")

for run in $(seq "$RUNS"); do
  rm -f "$DIR/dumped"
  /usr/bin/time -f "%U %S" -o "$DIR/dump-time.txt" \
    "$BIN" dump --listen "127.0.0.1:$PORT" --format "$FORMAT" -o "$DIR/dumped" --count "$PAYLOADS" \
    --summary json > "$DIR/dump-summary.json" 2>/dev/null &
  dump=$!
  sleep 0.3
  kill -0 "$dump" 2>/dev/null || { echo "dump did not start: is port $PORT in use? (PORT=...)" >&2; exit 1; }
  "$BIN" replay "$CAPTURE" -e "http://127.0.0.1:$PORT" --workers "$WORKERS" --summary json > "$DIR/summary.json" 2>/dev/null
  wait "$dump"
  cpu=$(awk '{print $1 + $2}' "$DIR/dump-time.txt")
  python3 - "$run" "$DIR" "$cpu" "$FORMAT" <<'PY'
import json, os, sys
run, d, cpu, fmt = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = json.load(open(f"{d}/summary.json"))
secs = s["elapsed_seconds"]
print(f"format={fmt} run={run} requests/s={s['payloads_sent']/secs:7.0f} "
      f"data_points/s={s['data_points_sent']/secs:9.0f} dump_cpu_s={cpu:5.1f} "
      f"written_mib={os.path.getsize(f'{d}/dumped')/2**20:6.0f} failed={s['payloads_failed']}")
PY
done
