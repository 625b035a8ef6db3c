//! Integration tests of qcode-tui (one test binary).
mod suite;
