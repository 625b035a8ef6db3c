//! The `qcode` binary.
fn main() {}
