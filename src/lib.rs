//! `metricsender`: send, replay and capture metrics over OTLP/gRPC.

pub mod convert;
pub mod gotime;
pub mod model;
pub mod otlp;
pub mod otlp_json;
