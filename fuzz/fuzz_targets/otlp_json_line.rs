#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| metricsender::fuzz::otlp_json_line(data));
