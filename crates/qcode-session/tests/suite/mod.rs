mod checkpoints;
mod export;
mod index;
mod support;
mod transcript;
