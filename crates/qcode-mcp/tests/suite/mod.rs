mod failures;
mod peer;
mod stdio;
mod streamable_http;
