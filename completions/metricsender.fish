# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_metricsender_global_optspecs
    string join \n v/verbose q/quiet color= h/help V/version
end

function __fish_metricsender_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_metricsender_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_metricsender_using_subcommand
    set -l cmd (__fish_metricsender_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c metricsender -n "__fish_metricsender_needs_command" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_needs_command" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_needs_command" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_needs_command" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_needs_command" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "send" -d 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "replay" -d 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "dump" -d 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "man" -d 'Print the man page (roff): `metricsender man | man -l -`'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c metricsender -n "__fish_metricsender_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l metric -d 'A metric to send, NAME=VALUE (repeatable)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l type -d 'Type of the --metric values' -r -f -a "gauge\t''
counter\t''
histogram\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l unit -d 'Unit of the --metric values' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l attr -d 'Point attribute KEY=VALUE (repeatable)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l resource -d 'Resource attribute KEY=VALUE (repeatable)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l namespace -d 'Namespace of the --metric values (the OTLP scope is namespace.subnamespace)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l subnamespace -d 'Subnamespace of the --metric values' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l json -d 'A payload as JSON: a GoSight MetricPayload or an OTLP JSON MetricsData' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l file -d 'A file of payloads, one per line, GoSight or OTLP JSON (`-` for stdin)' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l count -d 'Generate this many synthetic payloads, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l duration -d 'Generate synthetic payloads for this long, e.g. 30s, 5m' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l rate -d 'Synthetic payloads per second across all workers, > 0 [default: unlimited]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l metrics-per-payload -d 'Metrics in each synthetic payload, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l hosts -d 'Distinct hosts (resources) the synthetic payloads come from, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l stage -d 'A stage of the load, DURATION:RATE (repeatable): the rate moves linearly from where the previous stage ended (0 before the first) to RATE payloads/s over DURATION, as k6\'s stages do; the run ends with the last stage (or at --count); replaces --rate' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l series -d 'Series per metric and host (point attribute `series`), for cardinality tests, ≥ 1; each payload carries one of them in turn' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l attrs-per-point -d 'Extra attributes on every point (`label_0`…), each as distinct as its series' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l churn -d 'Replace this fraction of the series every --churn-interval (0 to 1), as pods come and go' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l churn-interval -d 'How often --churn replaces series, e.g. 10s, 1m' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l latency-out -d 'Write the latency percentile distribution here, as CSV (percentile, latency_ms, count), for plotting' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s e -l endpoint -d 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l protocol -d 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]' -r -f -a "grpc\t''
http/protobuf\t''
http/json\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l ca-cert -d 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l client-cert -d 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l client-key -d 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l tls-server-name -d 'Name to verify the server certificate against [default: host of the endpoint]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s H -l header -d 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l compression -d 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]' -r -f -a "none\t''
gzip\t''
zstd\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l timeout -d 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l connections -d 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s w -l workers -d 'Export calls in flight at once, 1..=65535' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l queue -d 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l retry-max-elapsed -d 'Give up retrying a payload after this long' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l retry-initial-backoff -d 'First retry delay; it doubles (with jitter) up to 30s' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l failed-out -d 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l mapping -d 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops' -r -f -a "agent\t'Exactly what the agent sends'
full\t'Also meta tags, virtualization facts, counters as monotonic sums'"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l max-request-bytes -d 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l batch -d 'Payloads packed into one Export request, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s o -l output -d 'Write the payloads to this file instead of the network (`-` for stdout); overwrites' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l output-format -d 'Format of --output; both are readable by `replay`' -r -f -a "otlp-json\t'OTLP JSON lines, lossless'
gosight\t'GoSight MetricPayload NDJSON (one payload per resource)'"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l summary -d 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)' -r -f -a "text\t''
json\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l progress -d 'Progress bars: auto shows them only on a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l insecure -d 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l no-retry -d 'Do not retry failed exports'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -l append -d 'Append to --output instead of overwriting it'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_using_subcommand send" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l format -d 'Input format; auto decides per line' -r -f -a "auto\t'Decide per line'
gosight\t'GoSight MetricPayload NDJSON'
otlp-json\t'OTLP JSON lines (MetricsData per line)'"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l max-line-bytes -d 'Reject (not truncate) lines longer than this, in bytes (64MiB, 512KiB), ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l pace -d 'Timing: `max` as fast as the server takes, `original` the recorded gaps between payload timestamps, or a factor of them (`10x` ten times faster, `0.5x` half speed)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l rate -d 'At most N payloads per second (with --pace, the slower of the two wins)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l loop -d 'Replay the files N times, 0 = until interrupted (with --shift-timestamps each pass is stamped after the one before)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l checkpoint -d 'Record how far each file is settled (acknowledged or saved as failed) in FILE; the same command run again skips that and resumes' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l shard -d 'Take only shard K of N (K from 0) of the payloads, by host, so N replays share the input; `auto/N` reads K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s e -l endpoint -d 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l protocol -d 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]' -r -f -a "grpc\t''
http/protobuf\t''
http/json\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l ca-cert -d 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l client-cert -d 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l client-key -d 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l tls-server-name -d 'Name to verify the server certificate against [default: host of the endpoint]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s H -l header -d 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l compression -d 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]' -r -f -a "none\t''
gzip\t''
zstd\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l timeout -d 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l connections -d 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s w -l workers -d 'Export calls in flight at once, 1..=65535' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l queue -d 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l retry-max-elapsed -d 'Give up retrying a payload after this long' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l retry-initial-backoff -d 'First retry delay; it doubles (with jitter) up to 30s' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l failed-out -d 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l mapping -d 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops' -r -f -a "agent\t'Exactly what the agent sends'
full\t'Also meta tags, virtualization facts, counters as monotonic sums'"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l max-request-bytes -d 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l batch -d 'Payloads packed into one Export request, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s o -l output -d 'Write the payloads to this file instead of the network (`-` for stdout); overwrites' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l output-format -d 'Format of --output; both are readable by `replay`' -r -f -a "otlp-json\t'OTLP JSON lines, lossless'
gosight\t'GoSight MetricPayload NDJSON (one payload per resource)'"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l summary -d 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)' -r -f -a "text\t''
json\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l progress -d 'Progress bars: auto shows them only on a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l strict -d 'Stop at the first malformed line (exit 65) instead of skipping it; nothing read after it is sent'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l dry-run -d 'Read, validate and convert; send nothing'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l shift-timestamps -d 'Move every timestamp so the first payload is stamped now, offsets kept to the nanosecond (with --pace, each payload is stamped at its send time)'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l merge -d 'Interleave the files in timestamp order (a streaming k-way merge) instead of reading them one after the other'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l ordered -d 'Deliver each resource\'s payloads in capture order: its next payload waits until the previous one is settled (for backends that reject out-of-order samples)'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l insecure -d 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l no-retry -d 'Do not retry failed exports'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -l append -d 'Append to --output instead of overwriting it'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_using_subcommand replay" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l listen -d 'OTLP/gRPC metrics receiver address; none: OTLP/HTTP only (with --listen-http)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l listen-http -d 'Also accept OTLP/HTTP, protobuf and JSON, on /v1/metrics at this address [default when given bare: 127.0.0.1:4318]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l cors-origin -d 'Answer browsers from this origin over OTLP/HTTP (CORS); * for any (repeatable)' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l input -d 'Instead of listening, read these captures (a converter); .gz and .zst are decompressed' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l max-request-bytes -d 'Largest request accepted, in bytes (4MiB, 512KiB), ≥ 1024; larger ones are refused' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l count -d 'Stop after this many requests written, ≥ 1' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l duration -d 'Stop after this long, e.g. 30s, 5m [default: until Ctrl-C or SIGTERM]' -r
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -s o -l output -d 'Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l format -d 'Output format; both are readable by `replay`; gosight counts what it cannot hold' -r -f -a "otlp-json\t'OTLP JSON lines, lossless'
gosight\t'GoSight MetricPayload NDJSON (one payload per resource)'"
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l tls-cert -d 'PEM certificate for TLS on the listener' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l tls-key -d 'PEM private key for TLS on the listener' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l client-ca -d 'Require client certificates signed by this CA (mutual TLS)' -r -F
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l summary -d 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)' -r -f -a "text\t''
json\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l progress -d 'Progress bars: auto shows them only on a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l live -d 'A full-screen live view of what arrives: totals, and each resource\'s metrics with points, rate and last value (keys: q quit, s sort, / filter, p pause); needs a terminal; without -o, nothing is written'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -l append -d 'Append to --output instead of overwriting it'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_using_subcommand dump" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_using_subcommand man" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand man" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_using_subcommand man" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_using_subcommand man" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_using_subcommand man" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c metricsender -n "__fish_metricsender_using_subcommand completions" -s v -l verbose -d 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)'
complete -c metricsender -n "__fish_metricsender_using_subcommand completions" -s q -l quiet -d 'Errors only: no logs, no progress, no text summary (--summary json still prints)'
complete -c metricsender -n "__fish_metricsender_using_subcommand completions" -s h -l help -d 'Print help (-h a summary, --help all of it)'
complete -c metricsender -n "__fish_metricsender_using_subcommand completions" -s V -l version -d 'Print the version'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "send" -d 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "replay" -d 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "dump" -d 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "man" -d 'Print the man page (roff): `metricsender man | man -l -`'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c metricsender -n "__fish_metricsender_using_subcommand help; and not __fish_seen_subcommand_from send replay dump man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
