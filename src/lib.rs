//! `metricsender`: send, replay and capture metrics over OTLP/gRPC.

pub mod gotime;
pub mod model;
pub mod otlp;
