mod app;
mod harness;
mod services;
mod widgets;
