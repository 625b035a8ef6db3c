mod failures;
mod filesystem;
mod peer;
mod prompts;
mod reconnect;
mod stdio;
mod streamable_http;
