mod app;
mod harness;
mod services;
mod subagents;
mod widgets;
