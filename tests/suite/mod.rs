mod harness;

mod config_discovery;
mod errors;
mod headless;
