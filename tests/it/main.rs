//! Integration tests: one binary, as ripgrep does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod cli_contract;
mod conservation;
mod dump;
mod endings;
mod golden;
mod replay;
mod send;
mod support;
mod tls;
