mod agents;
mod commands;
mod expand;
mod hooks;
mod loader;
mod skills;
mod support;
