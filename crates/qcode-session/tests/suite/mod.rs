mod checkpoints;
mod export;
mod index;
mod recorder;
mod support;
mod transcript;
