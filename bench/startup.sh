#!/usr/bin/env bash
# Start-up cost: the mean wall time of `metricsender --help` over many runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-200}
cargo build --release --quiet --bin metricsender
BIN=target/release/metricsender
"$BIN" --help > /dev/null
start=$(date +%s%N)
for _ in $(seq "$RUNS"); do "$BIN" --help > /dev/null; done
end=$(date +%s%N)
echo "metricsender --help: $(( (end - start) / RUNS / 1000 )) µs per run (mean of $RUNS)"
