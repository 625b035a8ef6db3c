//! Shared helpers: session fixtures, fake environments, and TCP endpoints that refuse or
//! swallow connections.

mod canary;
mod collector;
mod opt_out;
mod shutdown;
mod tee;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_protocol::{ApprovalMode, AuthKind};
use qcode_telemetry::{
    Consent, EndpointConfig, RunMode, SessionInfo, TelemetryConfig, TerminalKind,
};

pub fn session_info() -> SessionInfo {
    SessionInfo {
        terminal: TerminalKind::Xterm,
        run_mode: RunMode::Interactive,
        auth: AuthKind::QwenOauth,
        approval_mode: ApprovalMode::AutoEdit,
        startup: Duration::from_millis(150),
    }
}

pub fn config(consent: Consent, base_url: &str, audit_log: PathBuf) -> TelemetryConfig {
    TelemetryConfig {
        consent,
        endpoint: EndpointConfig::from_base(base_url).unwrap(),
        audit_log,
        session: session_info(),
    }
}

/// An environment made of the given pairs only.
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// A listener that accepts connections and never answers (a black-hole endpoint); it counts
/// and keeps the connections open.
pub struct BlackHole {
    pub port: u16,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
}

impl BlackHole {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().unwrap().push(stream);
            }
        });
        Self { port, accepted }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn connections(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }
}
