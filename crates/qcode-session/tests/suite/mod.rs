mod checkpoints;
mod export;
mod index;
mod recorder;
mod rewind;
mod support;
mod transcript;
mod watch;
