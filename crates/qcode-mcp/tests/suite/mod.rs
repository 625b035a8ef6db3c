mod failures;
mod filesystem;
mod peer;
mod stdio;
mod streamable_http;
