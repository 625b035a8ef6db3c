//! Integration tests of qcode-client against the scripted mock model server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
