mod backpressure;
mod harness;

mod interactive;
