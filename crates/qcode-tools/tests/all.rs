//! Integration tests of qcode-tools (one test binary; the cases live in `suite/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
