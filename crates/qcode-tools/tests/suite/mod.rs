//! Test cases, one module per concern, and shared helpers in `support`.

mod edit;
mod fetch;
mod memory_todo;
mod paths;
mod read;
mod schema;
mod search;
mod shell;
mod support;
mod tracker;
mod write;
