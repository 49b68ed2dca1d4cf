//! Integration tests: one binary, as ripgrep does.

mod golden;
