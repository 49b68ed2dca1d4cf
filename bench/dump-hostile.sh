#!/usr/bin/env bash
# dump's peak RSS under the amplifying request (examples/hostile.rs: one data point and
# 2,000,000 empty ResourceMetrics, ≈ 4 MB on the wire), CONCURRENT of them at once, for each
# output format. Goal: under 512 MiB.
#
#   bench/dump-hostile.sh            # CONCURRENT=8 bench/dump-hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENT=${CONCURRENT:-4}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14319}
mkdir -p "$DIR"
cargo build --release --quiet --bin metricsender --example hostile
BIN=target/release/metricsender

for format in gosight otlp-json; do
  rm -f "$DIR/hostile-out"
  /usr/bin/time -f "%M %e" -o "$DIR/hostile-time.txt" \
    "$BIN" dump --listen "127.0.0.1:$PORT" --format "$format" -o "$DIR/hostile-out" \
    --count "$CONCURRENT" --summary json > "$DIR/hostile-summary.json" 2>/dev/null &
  dump=$!
  sleep 0.3
  kill -0 "$dump" 2>/dev/null || { echo "dump did not start: is port $PORT in use? (PORT=...)" >&2; exit 1; }
  target/release/examples/hostile "http://127.0.0.1:$PORT" "$CONCURRENT" 2>/dev/null
  wait "$dump"
  read -r rss_kb secs < "$DIR/hostile-time.txt"
  echo "format=$format concurrent=$CONCURRENT peak_rss_mib=$((rss_kb / 1024)) seconds=$secs" \
       "written_bytes=$(stat -c %s "$DIR/hostile-out")" \
       "payloads_sent=$(python3 -c "import json;print(json.load(open('$DIR/hostile-summary.json'))['payloads_sent'])")"
done
