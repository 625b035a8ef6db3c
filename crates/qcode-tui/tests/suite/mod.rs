mod app;
mod custom_commands;
mod harness;
mod services;
mod subagents;
mod widgets;
