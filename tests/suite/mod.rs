mod harness;

mod agent;
mod config_discovery;
mod errors;
mod headless;
mod qwen_oauth;
mod telemetry;
