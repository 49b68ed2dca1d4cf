#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| metricsender::fuzz::protobuf_request(data));
