#!/usr/bin/env bash
# Writes a one-hour GoSight capture to stdout: HOSTS hosts (default 20), each sending a payload
# of 10 metrics every INTERVAL seconds (default 10), from 2025-05-29T12:00:00Z. Used by
# bench/pace.sh and bench/shards.sh.
set -euo pipefail
HOSTS=${HOSTS:-20} INTERVAL=${INTERVAL:-10} awk 'BEGIN {
  hosts = ENVIRON["HOSTS"]; interval = ENVIRON["INTERVAL"];
  for (t = 0; t < 3600; t += interval) {
    for (h = 0; h < hosts; h++) {
      # Hosts report spread over the interval, as real agents do.
      s = t + (h * interval) / hosts;
      secs = int(s); frac = int((s - secs) * 1000000000);
      ts = sprintf("2025-05-29T12:%02d:%02d.%09dZ", int(secs / 60), secs % 60, frac);
      printf "{\"agent_id\":\"agent-%d\",\"host_id\":\"host-%d\",\"hostname\":\"node-%d\",\"metrics\":[", h, h, h;
      for (m = 0; m < 10; m++) {
        printf "%s{\"namespace\":\"System\",\"subnamespace\":\"CPU\",\"name\":\"metric_%d\",\"timestamp\":\"%s\",\"value\":%d.5,\"unit\":\"percent\",\"type\":\"gauge\",\"dimensions\":{\"core\":\"%d\"}}", (m ? "," : ""), m, ts, (t + m) % 100, m;
      }
      printf "],\"meta\":{\"os\":\"linux\",\"platform\":\"ubuntu\"},\"timestamp\":\"%s\"}\n", ts;
    }
  }
}'
