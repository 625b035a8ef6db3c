//! `Secret` is shared by every crate that holds keys or tokens; see [`qcode_protocol::Secret`].

pub use qcode_protocol::Secret;
