//! Test modules; `common` holds the shared set-up.
mod cli_output;
mod common;
mod concurrency;
mod device_flow;
mod flows;
mod refresh;
mod resolve;
mod scripted;
mod store;
