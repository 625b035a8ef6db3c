//! Measures what telemetry costs a short headless run: init, a few events, a 100 ms-bounded
//! shutdown, exit. Usage: `exit_overhead [BASE_URL]` (default: the resolved endpoint), with the
//! usual opt-out variables honoured. Prints the time spent in `shutdown` to stderr; time the
//! whole process with `time` to see the exit cost.

use std::time::{Duration, Instant};

use qcode_protocol::{ApprovalMode, AuthKind, ErrorKind};
use qcode_telemetry::{
    Consent, EndpointConfig, RunMode, SessionInfo, SlashCommand, Telemetry, TelemetryConfig,
    TerminalKind, UsageEvent,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = match std::env::args().nth(1) {
        Some(base) => EndpointConfig::from_base(&base)?,
        None => EndpointConfig::resolve(None, &env)?,
    };
    let audit_log = std::env::temp_dir().join("qcode-exit-overhead-audit.jsonl");
    let telemetry = Telemetry::init(TelemetryConfig {
        consent: Consent::resolve(None, &env),
        endpoint,
        audit_log,
        session: SessionInfo {
            terminal: TerminalKind::detect(&env),
            run_mode: RunMode::Headless,
            auth: AuthKind::Openai,
            approval_mode: ApprovalMode::Default,
            startup: Duration::from_millis(5),
        },
    });
    telemetry.record(UsageEvent::SlashCommand(SlashCommand::from_input("/help")));
    telemetry.record(UsageEvent::Error(ErrorKind::Network));
    telemetry.end_session(1);
    let start = Instant::now();
    let outcome = telemetry.shutdown(Duration::from_millis(100));
    eprintln!("shutdown: {:?} ({outcome:?})", start.elapsed());
    Ok(())
}
