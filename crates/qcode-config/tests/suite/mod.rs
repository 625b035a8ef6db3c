mod precedence;
mod settings_files;
