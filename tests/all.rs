//! End-to-end tests of the `qcode` binary: the real executable, a scratch HOME, and the
//! scripted mock model server (and real peers where the behaviour depends on them).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod suite;
