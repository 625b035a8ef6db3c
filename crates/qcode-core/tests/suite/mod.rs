mod backpressure;
mod harness;

mod hooks;
mod interactive;
mod subagents;
mod tracker;
