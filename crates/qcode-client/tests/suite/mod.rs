//! Test modules; `support` holds the shared helpers.

mod auth;
mod cancel;
mod errors;
mod models;
mod network;
mod request;
mod retries;
mod streaming;
mod support;
mod tls;
