mod backpressure;
mod harness;

mod interactive;
mod tracker;
