mod failures;
mod filesystem;
mod peer;
mod reconnect;
mod stdio;
mod streamable_http;
