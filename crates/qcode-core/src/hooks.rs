//! The engine's hook points: runs the configured hooks of an event through
//! [`qcode_extensions::hooks::HookRunner`] (which owns the processes, their timeouts and their
//! environment) and reports every run as an [`Event::Hook`], and every warning as an
//! [`Event::Warning`]. The callers in the turn loop decide what a verdict changes.

use qcode_extensions::hooks::{EventPayload, HookEvent, HookOutcome, HookRun, HookStatus, Verdict};
use qcode_protocol::Event;
use tokio_util::sync::CancellationToken;

use crate::engine::{EventTx, Session};

/// Runs the hooks of `payload`'s event; `None` when the session has no hook for it (nothing
/// is spawned, nothing is reported).
pub(crate) async fn run(
    session: &Session,
    payload: EventPayload,
    cancel: &CancellationToken,
    tx: &EventTx,
) -> Option<HookOutcome> {
    let runner = session.deps.hooks.as_ref()?;
    if !runner.has_hooks(payload.event()) {
        return None;
    }
    // A subagent is not a session of its own: its tool calls (and approval questions) run the
    // hooks, its start, prompt and stop do not.
    if session.role != crate::engine::Role::Main
        && matches!(
            payload.event(),
            HookEvent::SessionStart
                | HookEvent::SessionEnd
                | HookEvent::UserPromptSubmit
                | HookEvent::Stop
        )
    {
        return None;
    }
    let outcome = runner.run(&payload, cancel).await;
    report(&outcome, tx).await;
    Some(outcome)
}

async fn report(outcome: &HookOutcome, tx: &EventTx) {
    for run in &outcome.runs {
        tx.send(event_for(run)).await;
    }
    for w in &outcome.warnings {
        tx.send(Event::Warning { message: w.clone() }).await;
    }
}

fn event_for(run: &HookRun) -> Event {
    let (status, message) = match &run.status {
        HookStatus::Success => ("success", None),
        HookStatus::Blocked => ("blocked", Some(first_lines(&run.stderr))),
        HookStatus::Failed { code } => (
            "failed",
            Some(match code {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".to_string(),
            }),
        ),
        HookStatus::TimedOut { after } => (
            "timed_out",
            Some(format!(
                "did not finish within {} s; killed",
                after.as_secs_f64()
            )),
        ),
        HookStatus::Cancelled => ("cancelled", None),
        HookStatus::NotStarted { error } => ("not_started", Some(error.clone())),
        HookStatus::SkippedUntrusted => (
            "skipped_untrusted",
            Some("this folder is not trusted (`qcode trust`)".to_string()),
        ),
    };
    Event::Hook {
        hook_event: run.event.as_str().to_string(),
        command: run.command.clone(),
        scope: run.scope.as_str().to_string(),
        status: status.to_string(),
        message: message.filter(|m| !m.is_empty()),
    }
}

/// At most a few lines of a hook's stderr, for the event.
fn first_lines(text: &str) -> String {
    let mut out: String = text.trim().lines().take(5).collect::<Vec<_>>().join("\n");
    if out.chars().count() > 500 {
        out = out.chars().take(499).collect();
        out.push('…');
    }
    out
}

/// The text to add to the model's context, if any hook gave some.
pub(crate) fn context_of(outcome: &HookOutcome) -> Option<String> {
    let text = outcome.additional_context.join("\n\n");
    (!text.trim().is_empty()).then_some(text)
}

/// The block reason, if the hooks blocked.
pub(crate) fn block_of(outcome: &HookOutcome) -> Option<String> {
    match &outcome.verdict {
        Verdict::Block { reason } => Some(reason.clone()),
        Verdict::Proceed | Verdict::Allow { .. } | Verdict::Ask { .. } => None,
    }
}
