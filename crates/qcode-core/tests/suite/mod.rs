mod harness;

mod interactive;
