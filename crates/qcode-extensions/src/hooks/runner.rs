//! Running the hooks of one event: in parallel, each in its own process group with the event's
//! JSON on stdin, bounded by its timeout, in a clean environment; then one folded outcome.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::{Hook, HookConfig, HookEvent};
use super::env::HookEnv;
use super::input::{EventPayload, SessionFacts};
use crate::loader::{Scope, Trust};

/// How much of a hook's stdout and of its stderr is kept (the rest is read and dropped).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// After a hook exits, how long something it started may keep its output open before the
/// group is killed.
const LINGER: Duration = Duration::from_millis(500);

/// How one hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookStatus {
    /// Exit 0.
    Success,
    /// Exit 2: the action is blocked; stderr is the reason.
    Blocked,
    /// Another exit code or a signal: a warning, the work goes on.
    Failed { code: Option<i32> },
    /// Ran past its timeout: killed with its whole process group.
    TimedOut { after: Duration },
    /// The session stopped it (Esc / Ctrl-C): killed with its process group.
    Cancelled,
    /// Could not be started (no shell, missing working directory, …).
    NotStarted { error: String },
    /// A project hook of an untrusted folder: never run.
    SkippedUntrusted,
}

/// One hook's run, for the transcript and `stream-json`.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    pub event: HookEvent,
    pub command: String,
    pub scope: Scope,
    pub status: HookStatus,
    pub stdout: String,
    pub stderr: String,
    /// The JSON object the hook printed on stdout, if it printed one (exit 0 only).
    pub json: Option<Value>,
}

/// A permission decision from `hookSpecificOutput.permissionDecision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    Allow,
    Ask,
    Deny,
}

/// What the hooks of one event decided together: blocks win, then deny > ask > allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No hook decided anything: carry on as usual.
    Proceed,
    /// Skip the approval question (PreToolUse).
    Allow { reason: String },
    /// Ask the user even where the mode would not (PreToolUse).
    Ask { reason: String },
    /// Do not go on: for PreToolUse the call does not run and the reason is what the model is
    /// told; for UserPromptSubmit the prompt is not sent and the user sees why.
    Block { reason: String },
}

/// Every run and the folded decision.
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutcome {
    pub event: HookEvent,
    pub runs: Vec<HookRun>,
    pub verdict: Verdict,
    /// Text for the model's context (stdout of SessionStart / UserPromptSubmit hooks that exit
    /// 0, and `additionalContext`), in configuration order.
    pub additional_context: Vec<String>,
    /// Lines for the user: failed, timed-out, unstartable and skipped hooks.
    pub warnings: Vec<String>,
}

/// Runs the configured hooks.
#[derive(Debug, Clone)]
pub struct HookRunner {
    config: HookConfig,
    env: HookEnv,
    facts: SessionFacts,
}

impl HookRunner {
    pub fn new(config: HookConfig, env: HookEnv, facts: SessionFacts) -> Self {
        Self { config, env, facts }
    }

    pub fn config(&self) -> &HookConfig {
        &self.config
    }

    /// Whether any hook would run (or be reported as skipped) for this event.
    pub fn has_hooks(&self, event: HookEvent) -> bool {
        !self.config.disabled && self.config.hooks.iter().any(|h| h.event == event)
    }

    /// Runs every hook matching `payload` in parallel and folds their outcomes. Cancelling
    /// `cancel` kills the running ones; dropping the future does too.
    pub async fn run(&self, payload: &EventPayload, cancel: &CancellationToken) -> HookOutcome {
        let event = payload.event();
        let hooks = self.config.matching(event, payload.subject());
        let stdin = payload.to_json(&self.facts).to_string().into_bytes();
        let mut runs: Vec<Option<HookRun>> = vec![None; hooks.len()];
        let mut set = JoinSet::new();
        for (i, hook) in hooks.iter().enumerate() {
            if hook.scope == Scope::Project && hook.trust == Trust::Untrusted {
                runs[i] = Some(HookRun {
                    event,
                    command: hook.command.clone(),
                    scope: hook.scope,
                    status: HookStatus::SkippedUntrusted,
                    stdout: String::new(),
                    stderr: String::new(),
                    json: None,
                });
                continue;
            }
            let job = Job {
                hook: (*hook).clone(),
                env: self.env.clone(),
                cwd: self.facts.cwd.clone(),
                stdin: stdin.clone(),
                cancel: cancel.child_token(),
            };
            set.spawn(async move { (i, run_one(job).await) });
        }
        while let Some(done) = set.join_next().await {
            if let Ok((i, run)) = done {
                runs[i] = Some(run);
            }
        }
        fold(event, runs.into_iter().flatten().collect())
    }
}

struct Job {
    hook: Hook,
    env: HookEnv,
    cwd: String,
    stdin: Vec<u8>,
    cancel: CancellationToken,
}

#[allow(unsafe_code)]
fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return; // never "every process" (-1) or our own group (0)
    }
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions; a negative
    // pid addresses the process group we created for the hook.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Kills the hook's group if its run is abandoned before it finished.
struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }
}

async fn read_capped(mut r: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_OUTPUT_BYTES.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    kept
}

async fn run_one(job: Job) -> HookRun {
    let hook = &job.hook;
    let mut run = HookRun {
        event: hook.event,
        command: hook.command.clone(),
        scope: hook.scope,
        status: HookStatus::Success,
        stdout: String::new(),
        stderr: String::new(),
        json: None,
    };
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&hook.command)
        .current_dir(&job.cwd)
        .process_group(0)
        .env_clear()
        .envs(job.env.vars().iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("QCODE_PROJECT_DIR", &job.cwd)
        .env("QWEN_PROJECT_DIR", &job.cwd)
        .env("CLAUDE_PROJECT_DIR", &job.cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            run.status = HookStatus::NotStarted {
                error: e.to_string(),
            };
            return run;
        }
    };
    let pgid = child.id().unwrap_or(0);
    let mut guard = GroupGuard { pgid, armed: true };
    let stdin = child.stdin.take();
    let data = job.stdin;
    let writer = tokio::spawn(async move {
        if let Some(mut s) = stdin {
            // A hook that does not read its stdin closes the pipe: that is fine.
            let _ = s.write_all(&data).await;
            let _ = s.shutdown().await;
        }
    });
    let out = child.stdout.take().map(|s| tokio::spawn(read_capped(s)));
    let err = child.stderr.take().map(|s| tokio::spawn(read_capped(s)));
    let deadline = Instant::now() + hook.timeout;
    let exit = tokio::select! {
        s = child.wait() => Some(s),
        () = tokio::time::sleep_until(deadline) => {
            run.status = HookStatus::TimedOut { after: hook.timeout };
            None
        }
        () = job.cancel.cancelled() => {
            run.status = HookStatus::Cancelled;
            None
        }
    };
    if exit.is_none() {
        signal_group(pgid, libc::SIGKILL);
    }
    // Let the pipes drain; a background process still holding them after LINGER is killed.
    let stdout = collect_pipe(out, pgid, Instant::now() + LINGER).await;
    let stderr = collect_pipe(err, pgid, Instant::now() + LINGER).await;
    writer.abort();
    if exit.is_none() {
        let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    }
    guard.armed = false;
    run.stdout = String::from_utf8_lossy(&stdout).into_owned();
    run.stderr = String::from_utf8_lossy(&stderr).into_owned();
    if let Some(status) = exit {
        run.status = match status {
            Err(e) => HookStatus::NotStarted {
                error: e.to_string(),
            },
            Ok(s) => match s.code() {
                Some(0) => HookStatus::Success,
                Some(2) => HookStatus::Blocked,
                code => HookStatus::Failed { code },
            },
        };
        if run.status == HookStatus::Success {
            let t = run.stdout.trim();
            if t.starts_with('{')
                && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t)
            {
                run.json = Some(v);
            }
        }
    }
    run
}

/// Waits for a pipe reader until `until`; if something still holds the pipe open then, the
/// hook's group is killed so the pipe closes.
async fn collect_pipe(
    handle: Option<tokio::task::JoinHandle<Vec<u8>>>,
    pgid: u32,
    until: Instant,
) -> Vec<u8> {
    let Some(mut h) = handle else {
        return Vec::new();
    };
    tokio::select! {
        r = &mut h => return r.unwrap_or_default(),
        () = tokio::time::sleep_until(until) => {}
    }
    signal_group(pgid, libc::SIGKILL);
    match tokio::time::timeout(Duration::from_secs(2), &mut h).await {
        Ok(r) => r.unwrap_or_default(),
        Err(_) => {
            h.abort();
            Vec::new()
        }
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Folds the runs of one event into one outcome.
pub fn fold(event: HookEvent, runs: Vec<HookRun>) -> HookOutcome {
    let mut blocks: Vec<String> = Vec::new();
    let mut permission: Option<(Permission, String)> = None;
    let mut context = Vec::new();
    let mut warnings = Vec::new();
    let stdout_is_context = matches!(event, HookEvent::SessionStart | HookEvent::UserPromptSubmit);
    for run in &runs {
        match &run.status {
            HookStatus::Success => {}
            HookStatus::Blocked => {
                let reason = run.stderr.trim();
                blocks.push(if reason.is_empty() {
                    format!("blocked by hook `{}`", run.command)
                } else {
                    reason.to_string()
                });
                continue;
            }
            HookStatus::Failed { code } => {
                let code = code.map_or("a signal".to_string(), |c| format!("exit code {c}"));
                let err = run.stderr.trim();
                warnings.push(if err.is_empty() {
                    format!("hook `{}` failed ({code})", run.command)
                } else {
                    format!("hook `{}` failed ({code}): {err}", run.command)
                });
                continue;
            }
            HookStatus::TimedOut { after } => {
                warnings.push(format!(
                    "hook `{}` did not finish within {} s and was killed",
                    run.command,
                    after.as_secs_f64()
                ));
                continue;
            }
            HookStatus::Cancelled => {
                warnings.push(format!("hook `{}` was stopped", run.command));
                continue;
            }
            HookStatus::NotStarted { error } => {
                warnings.push(format!("hook `{}` could not start: {error}", run.command));
                continue;
            }
            HookStatus::SkippedUntrusted => {
                warnings.push(format!(
                    "project hook `{}` was not run: this folder is not trusted (`qcode trust`)",
                    run.command
                ));
                continue;
            }
        }
        let Some(json) = &run.json else {
            if stdout_is_context && !run.stdout.trim().is_empty() {
                context.push(run.stdout.trim_end().to_string());
            }
            continue;
        };
        let reason = text(json.get("reason"));
        match json.get("decision").and_then(Value::as_str) {
            Some("block") => blocks.push(
                reason
                    .clone()
                    .unwrap_or_else(|| format!("blocked by hook `{}`", run.command)),
            ),
            Some("approve") => permission = max_perm(permission, Permission::Allow, reason.clone()),
            _ => {}
        }
        if json.get("continue").and_then(Value::as_bool) == Some(false) {
            blocks.push(
                text(json.get("stopReason"))
                    .unwrap_or_else(|| format!("stopped by hook `{}`", run.command)),
            );
        }
        let specific = json.get("hookSpecificOutput");
        if let Some(p) = specific
            .and_then(|s| s.get("permissionDecision"))
            .and_then(Value::as_str)
        {
            let why = text(specific.and_then(|s| s.get("permissionDecisionReason")));
            let kind = match p {
                "allow" => Some(Permission::Allow),
                "ask" => Some(Permission::Ask),
                "deny" => Some(Permission::Deny),
                other => {
                    warnings.push(format!(
                        "hook `{}`: permissionDecision `{other}` is not allow, deny or ask; ignored",
                        run.command
                    ));
                    None
                }
            };
            if let Some(kind) = kind {
                permission = max_perm(permission, kind, why);
            }
        }
        if let Some(c) = text(specific.and_then(|s| s.get("additionalContext")))
            .or_else(|| text(json.get("additionalContext")))
        {
            context.push(c);
        }
    }
    let verdict = if !blocks.is_empty() {
        Verdict::Block {
            reason: blocks.join("\n"),
        }
    } else {
        match permission {
            None => Verdict::Proceed,
            Some((Permission::Deny, reason)) => Verdict::Block { reason },
            Some((Permission::Ask, reason)) => Verdict::Ask { reason },
            Some((Permission::Allow, reason)) => Verdict::Allow { reason },
        }
    };
    HookOutcome {
        event,
        runs,
        verdict,
        additional_context: context,
        warnings,
    }
}

fn max_perm(
    cur: Option<(Permission, String)>,
    kind: Permission,
    reason: Option<String>,
) -> Option<(Permission, String)> {
    let reason = reason.unwrap_or_else(|| match kind {
        Permission::Allow => "allowed by a hook".into(),
        Permission::Ask => "a hook asks for confirmation".into(),
        Permission::Deny => "denied by a hook".into(),
    });
    match cur {
        Some((k, r)) if k > kind => Some((k, r)),
        Some((k, r)) if k == kind => Some((k, format!("{r}\n{reason}"))),
        _ => Some((kind, reason)),
    }
}
