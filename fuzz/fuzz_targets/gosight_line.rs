#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| metricsender::fuzz::gosight_line(data));
