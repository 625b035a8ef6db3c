#![allow(clippy::unwrap_used, clippy::expect_used)]
mod app;
mod harness;
mod services;
mod widgets;
