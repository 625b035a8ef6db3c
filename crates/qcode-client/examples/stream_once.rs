//! Streams one reply from an OpenAI-compatible provider to stdout.
//!
//! ```sh
//! OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_API_KEY=... OPENAI_MODEL=qwen3 \
//!   cargo run -p qcode-client --example stream_once -- "Say hello"
//! ```
//!
//! Reasoning goes to stderr (dimmed), text to stdout; retries, usage and the finish reason are
//! reported on stderr. Exits non-zero with the error and its hint on failure.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use futures::StreamExt;
use qcode_client::{
    CancellationToken, ChatClient, ChatRequest, ClientOptions, ResponseEvent, Secret,
    StaticCredentials,
};
use qcode_protocol::ChatMessage;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base_url =
        std::env::var("OPENAI_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".into());
    let api_key = std::env::var("OPENAI_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .map(Secret::new);
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    let prompt = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let prompt = if prompt.is_empty() {
        "Say hello in one sentence.".to_string()
    } else {
        prompt
    };

    let client = match ChatClient::new(ClientOptions::default()) {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let request = ChatRequest::new(model, vec![ChatMessage::user(prompt)]);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });

    let credentials = Arc::new(StaticCredentials::new(base_url, api_key));
    let mut stream = client.stream(credentials, &request, cancel);
    // Flush every delta only for a person watching; piped output is written in blocks.
    let interactive = std::io::stdout().is_terminal();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while let Some(item) = stream.next().await {
        match item {
            Ok(ResponseEvent::TextDelta(text)) => {
                let _ = out.write_all(text.as_bytes());
                if interactive {
                    let _ = out.flush();
                }
            }
            Ok(ResponseEvent::ReasoningDelta(text)) => eprint!("\x1b[2m{text}\x1b[0m"),
            Ok(ResponseEvent::ToolCall(call)) => {
                eprintln!(
                    "\n[tool call {} {}({})]",
                    call.id, call.name, call.arguments
                )
            }
            Ok(ResponseEvent::Usage(usage)) => eprintln!(
                "\n[usage: {} prompt ({} cached), {} completion ({} reasoning)]",
                usage.prompt_tokens,
                usage.cached_tokens,
                usage.completion_tokens,
                usage.reasoning_tokens
            ),
            Ok(ResponseEvent::Finish(reason)) => eprintln!("[finish: {reason:?}]"),
            Ok(ResponseEvent::Retry {
                attempt,
                max_attempts,
                delay,
                reason,
            }) => eprintln!(
                "[{reason}; retrying in {:.1} s ({attempt}/{max_attempts})]",
                delay.as_secs_f64()
            ),
            Err(e) => {
                let _ = out.flush();
                return fail(&e);
            }
        }
    }
    let _ = out.write_all(b"\n");
    let _ = out.flush();
    ExitCode::SUCCESS
}

fn fail(error: &qcode_client::ClientError) -> ExitCode {
    eprintln!("\nerror: {error}");
    if let Some(hint) = error.hint() {
        eprintln!("hint: {hint}");
    }
    ExitCode::FAILURE
}
