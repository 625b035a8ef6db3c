mod harness;

mod agent;
mod architecture;
mod catalogues;
mod config_discovery;
mod errors;
mod headless;
mod hostile_model;
mod hostile_repo;
mod interactive;
mod pty;
mod qwen_oauth;
mod rewind;
mod secrets;
mod sessions;
mod skills;
mod telemetry;
