
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
            cand -v 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand -q 'Less logging: errors only'
            cand --quiet 'Less logging: errors only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand send 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
            cand replay 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
            cand dump 'Receive OTLP/gRPC metrics (or convert captures) and write them to a file'
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
            cand --json 'A GoSight MetricPayload as JSON'
            cand --file 'A file of GoSight payloads, one per line (`-` for stdin)'
            cand --count 'Generate this many synthetic payloads'
            cand --duration 'Generate synthetic payloads for this long, e.g. 30s, 5m'
            cand --rate 'Synthetic payloads per second, across all workers [default: unlimited]'
            cand --metrics-per-payload 'Metrics in each synthetic payload'
            cand --hosts 'Distinct hosts (resources) the synthetic payloads come from'
            cand -e 'OTLP/gRPC endpoint: http:// is plaintext, https:// is TLS'
            cand --endpoint 'OTLP/gRPC endpoint: http:// is plaintext, https:// is TLS'
            cand --ca-cert 'PEM file with the CA certificates to trust instead of the system roots'
            cand --client-cert 'PEM client certificate for mutual TLS'
            cand --client-key 'PEM private key of the client certificate'
            cand --tls-server-name 'Name to verify the server certificate against [default: host of the endpoint]'
            cand -H 'gRPC metadata sent with every export, e.g. -H authorization="Bearer x" (repeatable)'
            cand --header 'gRPC metadata sent with every export, e.g. -H authorization="Bearer x" (repeatable)'
            cand --compression 'Request compression'
            cand --timeout 'Deadline of one export call, e.g. 500ms, 10s'
            cand -w 'Export calls in flight at once'
            cand --workers 'Export calls in flight at once'
            cand --queue 'Payloads buffered between the reader and the workers [default: 4 × workers × batch]'
            cand --retry-max-elapsed 'Give up retrying a payload after this long'
            cand --retry-initial-backoff 'First retry delay; it doubles (with jitter) up to 30s'
            cand --failed-out 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>.ndjson, created on the first failure]'
            cand --mapping 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops'
            cand --max-request-bytes 'Split payloads whose request would be larger than this, in bytes'
            cand --batch 'Payloads packed into one Export request'
            cand -o 'Write payloads to this file instead of the network (GoSight NDJSON, like `dump`)'
            cand --output 'Write payloads to this file instead of the network (GoSight NDJSON, like `dump`)'
            cand --summary 'Summary as text on stderr or one JSON object on stdout'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand --insecure 'Plaintext when the endpoint has no scheme'
            cand --no-retry 'Do not retry failed exports'
            cand -v 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand -q 'Less logging: errors only'
            cand --quiet 'Less logging: errors only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metricsender;replay'= {
            cand --format 'Input format; auto decides per line'
            cand --max-line-bytes 'Reject (not truncate) lines longer than this, in bytes'
            cand -e 'OTLP/gRPC endpoint: http:// is plaintext, https:// is TLS'
            cand --endpoint 'OTLP/gRPC endpoint: http:// is plaintext, https:// is TLS'
            cand --ca-cert 'PEM file with the CA certificates to trust instead of the system roots'
            cand --client-cert 'PEM client certificate for mutual TLS'
            cand --client-key 'PEM private key of the client certificate'
            cand --tls-server-name 'Name to verify the server certificate against [default: host of the endpoint]'
            cand -H 'gRPC metadata sent with every export, e.g. -H authorization="Bearer x" (repeatable)'
            cand --header 'gRPC metadata sent with every export, e.g. -H authorization="Bearer x" (repeatable)'
            cand --compression 'Request compression'
            cand --timeout 'Deadline of one export call, e.g. 500ms, 10s'
            cand -w 'Export calls in flight at once'
            cand --workers 'Export calls in flight at once'
            cand --queue 'Payloads buffered between the reader and the workers [default: 4 × workers × batch]'
            cand --retry-max-elapsed 'Give up retrying a payload after this long'
            cand --retry-initial-backoff 'First retry delay; it doubles (with jitter) up to 30s'
            cand --failed-out 'Append failed payloads here, as lines `replay` reads [default: metricsender-failed-<unix-seconds>.ndjson, created on the first failure]'
            cand --mapping 'GoSight → OTLP mapping: `agent` as the agent sends, `full` adds what it drops'
            cand --max-request-bytes 'Split payloads whose request would be larger than this, in bytes'
            cand --batch 'Payloads packed into one Export request'
            cand -o 'Write payloads to this file instead of the network (GoSight NDJSON, like `dump`)'
            cand --output 'Write payloads to this file instead of the network (GoSight NDJSON, like `dump`)'
            cand --summary 'Summary as text on stderr or one JSON object on stdout'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand --strict 'Stop at the first malformed line (exit 65) instead of skipping it'
            cand --dry-run 'Read, validate and convert; send nothing'
            cand --insecure 'Plaintext when the endpoint has no scheme'
            cand --no-retry 'Do not retry failed exports'
            cand -v 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand -q 'Less logging: errors only'
            cand --quiet 'Less logging: errors only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metricsender;dump'= {
            cand --listen 'OTLP/gRPC metrics receiver address'
            cand --input 'Instead of listening, read these captures (a converter); .gz and .zst are decompressed'
            cand -o 'Where to write (`-` for stdout); appends'
            cand --output 'Where to write (`-` for stdout); appends'
            cand --format 'Output format; both are readable by `replay`'
            cand --tls-cert 'PEM certificate for TLS on the listener'
            cand --tls-key 'PEM private key for TLS on the listener'
            cand --client-ca 'Require client certificates signed by this CA (mutual TLS)'
            cand --max-message-size 'Largest request accepted, in bytes'
            cand --count 'Stop after this many requests'
            cand --duration 'Stop after this long, e.g. 30s, 5m [default: until Ctrl-C or SIGTERM]'
            cand --summary 'Summary as text on stderr or one JSON object on stdout'
            cand --progress 'Progress bars: auto shows them only on a terminal'
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand -v 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand -q 'Less logging: errors only'
            cand --quiet 'Less logging: errors only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metricsender;completions'= {
            cand --color 'When to use colour (NO_COLOR is honoured)'
            cand -v 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand --verbose 'More logging: -v for debug, -vv for trace (logs go to stderr; RUST_LOG also works)'
            cand -q 'Less logging: errors only'
            cand --quiet 'Less logging: errors only'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'metricsender;help'= {
            cand send 'Send metrics from flags, a JSON payload, or a synthetic load to an OTLP endpoint'
            cand replay 'Stream capture files (GoSight NDJSON or OTLP JSON lines) to an OTLP endpoint'
            cand dump 'Receive OTLP/gRPC metrics (or convert captures) and write them to a file'
            cand completions 'Print the completion script for a shell'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'metricsender;help;send'= {
        }
        &'metricsender;help;replay'= {
        }
        &'metricsender;help;dump'= {
        }
        &'metricsender;help;completions'= {
        }
        &'metricsender;help;help'= {
        }
    ]
    $completions[$command]
}
