//! Integration tests of qcode-telemetry (one test binary; see `suite/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
