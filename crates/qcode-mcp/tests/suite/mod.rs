mod failures;
mod filesystem;
mod peer;
mod prompts;
mod stdio;
mod streamable_http;
