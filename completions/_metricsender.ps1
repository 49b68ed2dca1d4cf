
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'metricsender' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'metricsender'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'metricsender' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `metricsender man | man -l -`')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metricsender;send' {
            [CompletionResult]::new('--metric', '--metric', [CompletionResultType]::ParameterName, 'A metric to send, NAME=VALUE (repeatable)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Type of the --metric values')
            [CompletionResult]::new('--unit', '--unit', [CompletionResultType]::ParameterName, 'Unit of the --metric values')
            [CompletionResult]::new('--attr', '--attr', [CompletionResultType]::ParameterName, 'Point attribute KEY=VALUE (repeatable)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Resource attribute KEY=VALUE (repeatable)')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace of the --metric values (the OTLP scope is namespace.subnamespace)')
            [CompletionResult]::new('--subnamespace', '--subnamespace', [CompletionResultType]::ParameterName, 'Subnamespace of the --metric values')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'A payload as JSON: a GoSight MetricPayload or an OTLP JSON MetricsData')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A file of payloads, one per line, GoSight or OTLP JSON (`-` for stdin)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Generate this many synthetic payloads, ≥ 1')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Generate synthetic payloads for this long, e.g. 30s, 5m')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Synthetic payloads per second across all workers, > 0 [default: unlimited]')
            [CompletionResult]::new('--metrics-per-payload', '--metrics-per-payload', [CompletionResultType]::ParameterName, 'Metrics in each synthetic payload, ≥ 1')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Distinct hosts (resources) the synthetic payloads come from, ≥ 1')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'A stage of the load, DURATION:RATE (repeatable): the rate moves linearly from where the previous stage ended (0 before the first) to RATE payloads/s over DURATION, as k6''s stages do; the run ends with the last stage (or at --count); replaces --rate')
            [CompletionResult]::new('--series', '--series', [CompletionResultType]::ParameterName, 'Series per metric and host (point attribute `series`), for cardinality tests, ≥ 1; each payload carries one of them in turn')
            [CompletionResult]::new('--attrs-per-point', '--attrs-per-point', [CompletionResultType]::ParameterName, 'Extra attributes on every point (`label_0`…), each as distinct as its series')
            [CompletionResult]::new('--churn', '--churn', [CompletionResultType]::ParameterName, 'Replace this fraction of the series every --churn-interval (0 to 1), as pods come and go')
            [CompletionResult]::new('--churn-interval', '--churn-interval', [CompletionResultType]::ParameterName, 'How often --churn replaces series, e.g. 10s, 1m')
            [CompletionResult]::new('--latency-out', '--latency-out', [CompletionResultType]::ParameterName, 'Write the latency percentile distribution here, as CSV (percentile, latency_ms, count), for plotting')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Name to verify the server certificate against [default: host of the endpoint]')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]')
            [CompletionResult]::new('--connections', '--connections', [CompletionResultType]::ParameterName, 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Export calls in flight at once, 1..=65535')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Export calls in flight at once, 1..=65535')
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]')
            [CompletionResult]::new('--retry-max-elapsed', '--retry-max-elapsed', [CompletionResultType]::ParameterName, 'Give up retrying a payload after this long')
            [CompletionResult]::new('--retry-initial-backoff', '--retry-initial-backoff', [CompletionResultType]::ParameterName, 'First retry delay; it doubles (with jitter) up to 30s')
            [CompletionResult]::new('--failed-out', '--failed-out', [CompletionResultType]::ParameterName, 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops')
            [CompletionResult]::new('--max-request-bytes', '--max-request-bytes', [CompletionResultType]::ParameterName, 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Payloads packed into one Export request, ≥ 1')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the payloads to this file instead of the network (`-` for stdout); overwrites')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the payloads to this file instead of the network (`-` for stdout); overwrites')
            [CompletionResult]::new('--output-format', '--output-format', [CompletionResultType]::ParameterName, 'Format of --output; both are readable by `replay`')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Progress bars: auto shows them only on a terminal')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]')
            [CompletionResult]::new('--no-retry', '--no-retry', [CompletionResultType]::ParameterName, 'Do not retry failed exports')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Append to --output instead of overwriting it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            break
        }
        'metricsender;replay' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Input format; auto decides per line')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Reject (not truncate) lines longer than this, in bytes (64MiB, 512KiB), ≥ 1')
            [CompletionResult]::new('--pace', '--pace', [CompletionResultType]::ParameterName, 'Timing: `max` as fast as the server takes, `original` the recorded gaps between payload timestamps, or a factor of them (`10x` ten times faster, `0.5x` half speed)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'At most N payloads per second (with --pace, the slower of the two wins)')
            [CompletionResult]::new('--loop', '--loop', [CompletionResultType]::ParameterName, 'Replay the files N times, 0 = until interrupted (with --shift-timestamps each pass is stamped after the one before)')
            [CompletionResult]::new('--checkpoint', '--checkpoint', [CompletionResultType]::ParameterName, 'Record how far each file is settled (acknowledged or saved as failed) in FILE; the same command run again skips that and resumes')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Take only shard K of N (K from 0) of the payloads, by host, so N replays share the input; `auto/N` reads K from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'OTLP endpoint: http:// is plaintext, https:// is TLS [default: http://localhost:4317] (over HTTP: http://localhost:4318/v1/metrics; /v1/metrics is added to a URL without a path) [env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'OTLP transport and encoding [default: grpc] [env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL]')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'PEM file with the CA certificates to trust instead of the system roots [env: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE]')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'PEM client certificate for mutual TLS [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE]')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'PEM private key of the client certificate [env: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY]')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Name to verify the server certificate against [default: host of the endpoint]')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Header (gRPC metadata) sent with every export, e.g. -H authorization="Bearer x" (repeatable) [env: OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_EXPORTER_OTLP_HEADERS, as k=v,k2=v2]')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'Request compression [default: none] [env: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline of one export call, e.g. 500ms, 10s [default: 10s] [env: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds]')
            [CompletionResult]::new('--connections', '--connections', [CompletionResultType]::ParameterName, 'Independent connections to spread requests over, ≥ 1 (one connection pins all load to one backend behind a load balancer)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Export calls in flight at once, 1..=65535')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Export calls in flight at once, 1..=65535')
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'Payloads buffered between the reader and the workers, ≥ 1 [default: 4 × workers × batch]')
            [CompletionResult]::new('--retry-max-elapsed', '--retry-max-elapsed', [CompletionResultType]::ParameterName, 'Give up retrying a payload after this long')
            [CompletionResult]::new('--retry-initial-backoff', '--retry-initial-backoff', [CompletionResultType]::ParameterName, 'First retry delay; it doubles (with jitter) up to 30s')
            [CompletionResult]::new('--failed-out', '--failed-out', [CompletionResultType]::ParameterName, 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>-<pid>.ndjson, created on the first failure]')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops')
            [CompletionResult]::new('--max-request-bytes', '--max-request-bytes', [CompletionResultType]::ParameterName, 'Split payloads whose request would be larger than this, in bytes (4MiB, 512KiB), ≥ 1024')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Payloads packed into one Export request, ≥ 1')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the payloads to this file instead of the network (`-` for stdout); overwrites')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the payloads to this file instead of the network (`-` for stdout); overwrites')
            [CompletionResult]::new('--output-format', '--output-format', [CompletionResultType]::ParameterName, 'Format of --output; both are readable by `replay`')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Progress bars: auto shows them only on a terminal')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop at the first malformed line (exit 65) instead of skipping it; nothing read after it is sent')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Read, validate and convert; send nothing')
            [CompletionResult]::new('--shift-timestamps', '--shift-timestamps', [CompletionResultType]::ParameterName, 'Move every timestamp so the first payload is stamped now, offsets kept to the nanosecond (with --pace, each payload is stamped at its send time)')
            [CompletionResult]::new('--merge', '--merge', [CompletionResultType]::ParameterName, 'Interleave the files in timestamp order (a streaming k-way merge) instead of reading them one after the other')
            [CompletionResult]::new('--ordered', '--ordered', [CompletionResultType]::ParameterName, 'Deliver each resource''s payloads in capture order: its next payload waits until the previous one is settled (for backends that reject out-of-order samples)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Plaintext when the endpoint has no scheme (TLS otherwise) [env: OTEL_EXPORTER_OTLP_METRICS_INSECURE, OTEL_EXPORTER_OTLP_INSECURE]')
            [CompletionResult]::new('--no-retry', '--no-retry', [CompletionResultType]::ParameterName, 'Do not retry failed exports')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Append to --output instead of overwriting it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            break
        }
        'metricsender;dump' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'OTLP/gRPC metrics receiver address; none: OTLP/HTTP only (with --listen-http)')
            [CompletionResult]::new('--listen-http', '--listen-http', [CompletionResultType]::ParameterName, 'Also accept OTLP/HTTP, protobuf and JSON, on /v1/metrics at this address [default when given bare: 127.0.0.1:4318]')
            [CompletionResult]::new('--cors-origin', '--cors-origin', [CompletionResultType]::ParameterName, 'Answer browsers from this origin over OTLP/HTTP (CORS); * for any (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Instead of listening, read these captures (a converter); .gz and .zst are decompressed')
            [CompletionResult]::new('--max-request-bytes', '--max-request-bytes', [CompletionResultType]::ParameterName, 'Largest request accepted, in bytes (4MiB, 512KiB), ≥ 1024; larger ones are refused')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many requests written, ≥ 1')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long, e.g. 30s, 5m [default: until Ctrl-C or SIGTERM]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write (`-` for stdout); overwrites [default: -; with --live, nothing]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format; both are readable by `replay`; gosight counts what it cannot hold')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate for TLS on the listener')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key for TLS on the listener')
            [CompletionResult]::new('--client-ca', '--client-ca', [CompletionResultType]::ParameterName, 'Require client certificates signed by this CA (mutual TLS)')
            [CompletionResult]::new('--summary', '--summary', [CompletionResultType]::ParameterName, 'Summary as text on stderr, or one JSON object on stdout (on stderr when the payloads go to stdout, with -o -)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Progress bars: auto shows them only on a terminal')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('--live', '--live', [CompletionResultType]::ParameterName, 'A full-screen live view of what arrives: totals, and each resource''s metrics with points, rate and last value (keys: q quit, s sort, / filter, p pause); needs a terminal; without -o, nothing is written')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Append to --output instead of overwriting it')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            break
        }
        'metricsender;man' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            break
        }
        'metricsender;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging: -v for debug, -vv for trace (to stderr; RUST_LOG also works)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Errors only: no logs, no progress, no text summary (--summary json still prints)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h a summary, --help all of it)')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print the version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version')
            break
        }
        'metricsender;help' {
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Receive OTLP metrics over gRPC or HTTP (or convert captures) and write them to a file replay reads')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `metricsender man | man -l -`')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'metricsender;help;send' {
            break
        }
        'metricsender;help;replay' {
            break
        }
        'metricsender;help;dump' {
            break
        }
        'metricsender;help;man' {
            break
        }
        'metricsender;help;completions' {
            break
        }
        'metricsender;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
