//! Integration tests: one binary, as ripgrep does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod cli_contract;
mod conservation;
#[cfg(unix)] // dump is stopped with SIGTERM, as a service manager would
mod dump;
mod endings;
mod golden;
#[cfg(unix)] // uses dump, stopped with SIGTERM
mod http;
mod operate;
mod otlp_json;
mod replay;
mod send;
mod support;
mod tls;
