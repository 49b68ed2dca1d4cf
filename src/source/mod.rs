//! Where payloads come from: capture files (`replay`, `dump --input`), flags and a load
//! generator (`send`), an OTLP/gRPC listener (`dump`).

pub mod files;
pub mod generator;
pub mod listener;
pub mod load;
pub mod replay;
