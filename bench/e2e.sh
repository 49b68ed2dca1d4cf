#!/usr/bin/env bash
# End-to-end replay benchmark: generates a capture with the tool itself, replays it into a
# minimal local sink (examples/sink.rs) and reports payloads/s, data points/s, CPU time and
# peak RSS (from /usr/bin/time -v). Client and sink share the machine, as in the targets.
#
#   bench/e2e.sh                  # 300 MB capture, no compression, then gzip
#   SIZE_MB=3000 bench/e2e.sh     # the same at 3 GB (memory must not grow)
#   RUNS=5 WORKERS=16 bench/e2e.sh
#   EXTRA="--batch 8" bench/e2e.sh   # any other replay options
#   PROTOCOLS="grpc http/protobuf" COMPRESSIONS=none bench/e2e.sh   # gRPC beside OTLP/HTTP
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-300}
RUNS=${RUNS:-3}
WORKERS=${WORKERS:-16}
COMPRESSIONS=${COMPRESSIONS:-"none gzip"}
PROTOCOLS=${PROTOCOLS:-grpc}
EXTRA=${EXTRA:-}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14317}

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin metricsender --example sink
BIN=target/release/metricsender
SINK=target/release/examples/sink
mkdir -p "$DIR"

# The capture: ~16 KB host payloads (60 metrics, ~45 resource attributes) from 50 hosts.
BASE="$DIR/capture-300mb.ndjson"
if [ ! -s "$BASE" ]; then
  echo "generating $BASE ..." >&2
  "$BIN" send --count 19500 --hosts 50 --metrics-per-payload 60 -o "$BASE" --output-format gosight --summary json >/dev/null
fi
CAPTURE="$DIR/capture-${SIZE_MB}mb.ndjson"
if [ ! -s "$CAPTURE" ]; then
  # Larger captures repeat the 300 MB one.
  for _ in $(seq $(( (SIZE_MB + 299) / 300 ))); do cat "$BASE"; done > "$CAPTURE"
fi
BYTES=$(stat -c %s "$CAPTURE")
echo "capture: $CAPTURE ($((BYTES / 1024 / 1024)) MiB, $(wc -l < "$CAPTURE") payloads)"

RESULTS="$DIR/results.txt"
: > "$RESULTS"
for protocol in $PROTOCOLS; do
for compression in $COMPRESSIONS; do
  for run in $(seq "$RUNS"); do
    sink_mode=""; [ "$protocol" = grpc ] || sink_mode="--http"
    /usr/bin/time -v -o "$DIR/sink-time.txt" "$SINK" "127.0.0.1:$PORT" $sink_mode > "$DIR/sink.json" 2>/dev/null &
    sink=$!
    sleep 0.3
    kill -0 "$sink" 2>/dev/null || { echo "the sink did not start: is port $PORT in use? (PORT=...)" >&2; exit 1; }
    /usr/bin/time -v "$BIN" replay "$CAPTURE" -e "http://127.0.0.1:$PORT" --workers "$WORKERS" \
      --protocol "$protocol" --compression "$compression" --summary json $EXTRA > "$DIR/summary.json" 2> "$DIR/time.txt"
    pkill -TERM -P "$sink"; wait "$sink" || true
    python3 - "$protocol/$compression" "$run" "$DIR" <<'PY'
import json, re, sys
compression, run, d = sys.argv[1:4]
s = json.load(open(f"{d}/summary.json"))
t = open(f"{d}/time.txt").read()
grab = lambda key: float(re.search(re.escape(key) + r":\s*([\d.]+)", t).group(1))
cpu = grab("User time (seconds)") + grab("System time (seconds)")
rss = grab("Maximum resident set size (kbytes)") / 1024
t = open(f"{d}/sink-time.txt").read()
sink_cpu = grab("User time (seconds)") + grab("System time (seconds)")
secs = s["elapsed_seconds"]
print(f"compression={compression:18} run={run} payloads/s={s['payloads_sent']/secs:8.0f} "
      f"data_points/s={s['data_points_sent']/secs:10.0f} cpu_s={cpu:6.1f} sink_cpu_s={sink_cpu:6.1f} "
      f"peak_rss_mib={rss:5.1f} "
      f"sent={s['payloads_sent']} failed={s['payloads_failed']}")
PY
  done
done
done | tee "$RESULTS"

# Medians per compression: what the README reports.
python3 - "$RESULTS" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = dict(re.findall(r"(\S+)=\s*(\S+)", line))
    runs.setdefault(fields["compression"], []).append(fields)
for compression, rows in runs.items():
    med = lambda key: statistics.median(float(r[key]) for r in rows)
    print(f"median of {len(rows)}: compression={compression:18} payloads/s={med('payloads/s'):8.0f} "
          f"data_points/s={med('data_points/s'):10.0f} cpu_s={med('cpu_s'):6.1f} "
          f"sink_cpu_s={med('sink_cpu_s'):6.1f} peak_rss_mib={med('peak_rss_mib'):5.1f}")
PY
