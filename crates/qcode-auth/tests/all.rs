//! Integration tests of qcode-auth against the real OAuth peer (oidc-provider, see
//! `tests/peers/oauth`), plus file-format, lock and output checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
