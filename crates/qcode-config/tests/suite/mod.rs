mod precedence;
mod settings_files;
mod writers;
