
use builtin;
use str;

set edit:completion:arg-completer[metricsender] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'metricsender'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'metricsender'= {
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
            cand send 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
            cand replay 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
            cand dump 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads'
            cand man 'Print the man page (roff): `metricsender man | man -l -`'
            cand completions 'Print the completion script for a shell'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metricsender;send'= {
            cand --metric 'A metric to send, NAME=VALUE (repeatable)'
            cand --type 'Type of the --metric values'
            cand --unit 'Unit of the --metric values'
            cand --attr 'Point attribute KEY=VALUE (repeatable)'
            cand --resource 'Resource attribute KEY=VALUE (repeatable)'
            cand --namespace 'Namespace of the --metric values (the OTLP scope is namespace.subnamespace)'
            cand --subnamespace 'Subnamespace of the --metric values'
            cand --json 'A payload as JSON: a GoSight MetricPayload or an OTLP JSON MetricsData'
            cand --file 'A file of payloads, one per line, GoSight or OTLP JSON (`-` for stdin)'
            cand --count 'Generate this many synthetic payloads, ≥ 1'
            cand --duration 'Generate synthetic payloads for this long, e.g. 30s, 5m'
            cand --rate 'Synthetic payloads per second across all workers, > 0 [default: unlimited]'
            cand --metrics-per-payload 'Metrics in each synthetic payload, ≥ 1'
            cand --hosts 'Distinct hosts (resources) the synthetic payloads come from, ≥ 1'
            cand --stage 'A stage of the load, DURATION:RATE (repeatable): the rate moves linearly from where the previous stage ended (0 before the first) to RATE payloads/s over DURATION, as k6''s stages do; the run ends with the last stage (or at --count); replaces --rate'
            cand --series 'Series per metric and host (point attribute `series`), for cardinality tests, ≥ 1; each payload carries one of them in turn'
            cand --attrs-per-point 'Extra attributes on every point (`label_0`…), each as distinct as its series'
            cand --churn 'Replace this fraction of the series every --churn-interval (0 to 1), as pods come and go'
            cand --churn-interval 'How often --churn replaces series, e.g. 10s, 1m'
            cand --latency-out 'Write the latency percentile distribution here, as CSV (percentile, latency_ms, count), for plotting'
            cand -e 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]'
            cand --endpoint 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]'
            cand --protocol 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]'
            cand --ca-cert 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]'
            cand --client-cert 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]'
            cand --client-key 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]'
            cand --tls-server-name 'Name to verify the server certificate against [default: host of the endpoint]'
            cand -H 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]'
            cand --header 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]'
            cand --compression 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]'
            cand --timeout 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]'
            cand --connections 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)'
            cand -w 'Export calls in flight at once, 1..=65535'
            cand --workers 'Export calls in flight at once, 1..=65535'
            cand --queue 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]'
            cand --retry-max-elapsed 'Give up retrying a payload after this long'
            cand --retry-initial-backoff 'First retry delay; it doubles (with jitter) up to 30s'
            cand --failed-out 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]'
            cand --mapping 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops'
            cand --max-request-bytes 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024'
            cand --batch 'Payloads packed into one Export request, ≥ 1'
            cand -o 'Write the payloads to this file instead of the network (`-` for stdout); overwrites'
            cand --output 'Write the payloads to this file instead of the network (`-` for stdout); overwrites'
            cand --output-format 'Format of --output; both are readable by `replay`'
            cand --summary 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand --insecure 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]'
            cand --no-retry 'Do not retry failed exports'
            cand --append 'Append to --output instead of overwriting it'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
        }
        &'metricsender;replay'= {
            cand --format 'Input format; auto decides per line'
            cand --max-line-bytes 'Reject (not truncate) lines longer than this, in bytes (64MiB, 512KiB), ≥ 1'
            cand --pace 'Timing: `max` as fast as the server takes, `original` the recorded gaps between payload timestamps, or a factor of them (`10x` ten times faster, `0.5x` half speed)'
            cand --rate 'At most N payloads per second (with --pace, the slower of the two wins)'
            cand --loop 'Replay the files N times, 0 = until interrupted (with --shift-timestamps each pass is stamped after the one before)'
            cand --checkpoint 'Record how far each file is settled (acknowledged or saved as failed) in FILE; the same command run again skips that and resumes'
            cand --shard 'Take only shard K of N (K from 0) of the payloads, by host, so N replays share the input; `auto/N` reads K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)'
            cand -e 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]'
            cand --endpoint 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]'
            cand --protocol 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]'
            cand --ca-cert 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]'
            cand --client-cert 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]'
            cand --client-key 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]'
            cand --tls-server-name 'Name to verify the server certificate against [default: host of the endpoint]'
            cand -H 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]'
            cand --header 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]'
            cand --compression 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]'
            cand --timeout 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]'
            cand --connections 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)'
            cand -w 'Export calls in flight at once, 1..=65535'
            cand --workers 'Export calls in flight at once, 1..=65535'
            cand --queue 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]'
            cand --retry-max-elapsed 'Give up retrying a payload after this long'
            cand --retry-initial-backoff 'First retry delay; it doubles (with jitter) up to 30s'
            cand --failed-out 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]'
            cand --mapping 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops'
            cand --max-request-bytes 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024'
            cand --batch 'Payloads packed into one Export request, ≥ 1'
            cand -o 'Write the payloads to this file instead of the network (`-` for stdout); overwrites'
            cand --output 'Write the payloads to this file instead of the network (`-` for stdout); overwrites'
            cand --output-format 'Format of --output; both are readable by `replay`'
            cand --summary 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand --strict 'Stop at the first malformed line (exit 65) instead of skipping it; nothing read after it is sent'
            cand --dry-run 'Read, validate and convert; send nothing'
            cand --shift-timestamps 'Move every timestamp so the first payload is stamped now, offsets kept to the nanosecond (with --pace, each payload is stamped at its send time)'
            cand --merge 'Interleave the files in timestamp order (a streaming k-way merge) instead of reading them one after the other'
            cand --ordered 'Deliver each resource''s payloads in capture order: its next payload waits until the previous one is settled (for backends that reject out-of-order samples)'
            cand --insecure 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]'
            cand --no-retry 'Do not retry failed exports'
            cand --append 'Append to --output instead of overwriting it'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
        }
        &'metricsender;dump'= {
            cand --listen 'OTLP/gRPC metrics receiver address; none: OTLP/HTTP only (with --listen-http)'
            cand --listen-http 'Also accept OTLP/HTTP, protobuf and JSON, on /v1/metrics at this address [default when given bare: 127.0.0.1:4318]'
            cand --cors-origin 'Answer browsers from this origin over OTLP/HTTP (CORS); * for any (repeatable)'
            cand --input 'Instead of listening, read these captures (a converter); .gz and .zst are decompressed'
            cand --max-request-bytes 'Largest request accepted, in bytes (4MiB, 512KiB), ≥ 1024; larger ones are refused'
            cand --count 'Stop after this many requests written, ≥ 1'
            cand --duration 'Stop after this long, e.g. 30s, 5m [default: until Ctrl-C or SIGTERM]'
            cand -o 'Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]'
            cand --output 'Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]'
            cand --format 'Output format; both are readable by `replay`; gosight counts what it cannot hold'
            cand --tls-cert 'PEM certificate for TLS on the listener'
            cand --tls-key 'PEM private key for TLS on the listener'
            cand --client-ca 'Require client certificates signed by this CA (mutual TLS)'
            cand --summary 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand --live 'A full-screen live view of what arrives: totals, and each resource''s metrics with points, rate and last value (keys: q quit, s sort, / filter, p pause); needs a terminal; without -o, nothing is written'
            cand --append 'Append to --output instead of overwriting it'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
        }
        &'metricsender;man'= {
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
        }
        &'metricsender;completions'= {
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand -v 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
            cand -q 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand --quiet 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
            cand -h 'Print help (-h a summary, --help all of it)'
            cand --help 'Print help (-h a summary, --help all of it)'
            cand -V 'Print the version'
            cand --version 'Print the version'
        }
        &'metricsender;help'= {
            cand send 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
            cand replay 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
            cand dump 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads'
            cand man 'Print the man page (roff): `metricsender man | man -l -`'
            cand completions 'Print the completion script for a shell'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metricsender;help;send'= {
        }
        &'metricsender;help;replay'= {
        }
        &'metricsender;help;dump'= {
        }
        &'metricsender;help;man'= {
        }
        &'metricsender;help;completions'= {
        }
        &'metricsender;help;help'= {
        }
    ]
    $completions[$command]
}
