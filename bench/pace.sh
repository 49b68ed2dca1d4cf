#!/usr/bin/env bash
# Schedule accuracy of `replay --pace`: a one-hour capture (bench/capture-hour.sh, 7,200
# payloads) replayed at FACTOR (default 60x, so one minute) with --shift-timestamps, which
# stamps each payload with the time it is due, into examples/sink.rs --lateness, which
# measures each request's arrival against that stamp. Reports the replay's own
# schedule_lag_ms_max, the wall time against the schedule's length, and the lateness the
# server saw (p50, p99, max).
#
#   bench/pace.sh
#   FACTOR=600x WORKERS=8 bench/pace.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FACTOR=${FACTOR:-60x}
WORKERS=${WORKERS:-4}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14318}

cargo build --release --quiet --bin metricsender --example sink
BIN=target/release/metricsender
SINK=target/release/examples/sink
mkdir -p "$DIR"
CAPTURE="$DIR/hour.ndjson"
bench/capture-hour.sh > "$CAPTURE"

"$SINK" "127.0.0.1:$PORT" --lateness > "$DIR/pace-sink.json" 2>/dev/null &
sink=$!
sleep 0.3
kill -0 "$sink" 2>/dev/null || { echo "the sink did not start: is port $PORT in use? (PORT=...)" >&2; exit 1; }
"$BIN" replay "$CAPTURE" -e "http://127.0.0.1:$PORT" --pace "$FACTOR" --shift-timestamps \
  --workers "$WORKERS" --summary json > "$DIR/pace-summary.json"
kill -TERM "$sink"; wait "$sink" || true
python3 - "$DIR" "$FACTOR" <<'PY'
import json, sys
d, factor = sys.argv[1:3]
s = json.load(open(f"{d}/pace-summary.json"))
k = json.load(open(f"{d}/pace-sink.json"))
span = 3599.5  # seconds from the first payload to the last
planned = span / float(factor.rstrip("x"))
print(f"pace {factor}: {s['payloads_sent']} payloads sent, {k['requests']} received; "
      f"wall {s['elapsed_seconds']:.3f} s for a {planned:.3f} s schedule "
      f"(+{(s['elapsed_seconds'] - planned) * 1000:.1f} ms)")
print(f"schedule_lag_ms_max (replay): {s['schedule_lag_ms_max']:.3f} ms")
l = k["lateness_ms"]
print(f"arrival after due time (server): p50 {l['p50']:.3f} ms, p99 {l['p99']:.3f} ms, max {l['max']:.3f} ms")
PY
