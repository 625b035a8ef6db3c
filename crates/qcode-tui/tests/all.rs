//! Integration tests of qcode-tui (one test binary).
// Helpers of an integration-test crate are not `#[test]` functions, so clippy.toml's
// allow-unwrap-in-tests does not reach them: allowed once here, for the whole test crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod suite;
