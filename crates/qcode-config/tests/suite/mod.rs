mod mcp;
mod origins;
mod precedence;
mod settings_files;
mod trust;
mod writers;
