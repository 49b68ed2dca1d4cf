#!/usr/bin/env bash
# A sharded replay: the one-hour capture (bench/capture-hour.sh) replayed by SHARDS processes
# at once (default 3, `--shard K/N`) into one `dump` receiver, then checked: every payload
# arrived exactly once (the received requests, sorted, equal the capture converted by
# `dump --input`), and the shards skipped N-1 times the capture between them.
#
#   bench/shards.sh
#   SHARDS=8 bench/shards.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SHARDS=${SHARDS:-3}
DIR=${BENCH_DIR:-target/bench}
PORT=${PORT:-14319}

cargo build --release --quiet --bin metricsender
BIN=target/release/metricsender
mkdir -p "$DIR"
CAPTURE="$DIR/hour.ndjson"
bench/capture-hour.sh > "$CAPTURE"

"$BIN" dump --listen "127.0.0.1:$PORT" -o "$DIR/shards-received.jsonl" --summary json \
  > "$DIR/shards-dump.json" 2>/dev/null &
dump=$!
sleep 0.3
start=$(date +%s.%N)
pids=()
for k in $(seq 0 $((SHARDS - 1))); do
  "$BIN" replay "$CAPTURE" -e "http://127.0.0.1:$PORT" --shard "$k/$SHARDS" --summary json \
    > "$DIR/shard-$k.json" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
end=$(date +%s.%N)
kill -TERM "$dump"; wait "$dump" || true
"$BIN" dump --input "$CAPTURE" -o "$DIR/shards-expected.jsonl" --summary json > /dev/null
sort "$DIR/shards-received.jsonl" > "$DIR/shards-received.sorted"
sort "$DIR/shards-expected.jsonl" > "$DIR/shards-expected.sorted"
python3 - "$DIR" "$SHARDS" "$start" "$end" <<'PY'
import json, sys
d, n, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
sent = skipped = 0
for k in range(n):
    s = json.load(open(f"{d}/shard-{k}.json"))
    sent += s["payloads_sent"]; skipped += s["payloads_skipped"]
    print(f"shard {k}/{n}: sent {s['payloads_sent']}, skipped {s['payloads_skipped']}, exit ok")
received = open(f"{d}/shards-received.sorted").read().splitlines()
expected = open(f"{d}/shards-expected.sorted").read().splitlines()
dupes = len(received) - len(set(received))
print(f"capture {len(expected)} payloads; received {len(received)}, duplicates {dupes}; "
      f"sent {sent}, skipped {skipped} (= {n - 1} x capture: {skipped == (n - 1) * len(expected)}); "
      f"{end - start:.2f} s")
print("every payload exactly once" if received == expected else "MISMATCH")
sys.exit(0 if received == expected else 1)
PY
