//! What of the engine's event stream goes into a transcript, and how: the one place that maps
//! [`Event`]s to records. The binary feeds it every event (on a thread of its own); the
//! engine knows nothing of files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use qcode_protocol::{ApprovalMode, AuthKind, Event};

use crate::error::SessionError;
use crate::reader::LoadedSession;
use crate::record::{FORMAT_VERSION, Header};
use crate::time::now_rfc3339;
use crate::writer::{SessionWriter, SyncPolicy, new_session_id};

/// One hook run as the transcript records it (from `Event::Hook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookRecord<'a> {
    pub event: &'a str,
    pub command: &'a str,
    pub scope: &'a str,
    pub status: &'a str,
    pub message: Option<&'a str>,
}

/// Where and how a new session starts (the header's facts that are not the engine's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    pub cwd: String,
    pub git_branch: Option<String>,
    pub model: String,
    pub auth: AuthKind,
    pub approval_mode: ApprovalMode,
}

impl SessionStart {
    /// The header of a new session `id`, created now.
    pub fn header(&self, id: String) -> Header {
        Header {
            format: FORMAT_VERSION,
            id,
            qcode_version: env!("CARGO_PKG_VERSION").to_string(),
            cwd: self.cwd.clone(),
            git_branch: self.git_branch.clone(),
            model: self.model.clone(),
            auth: self.auth,
            approval_mode: self.approval_mode,
            created_at: now_rfc3339(),
            forked_from: None,
        }
    }
}

/// The ids of one process's sessions: the first, then one per `/clear`, each decided once and
/// shared — by the recorder (the transcript) and the checkpoint tracker (the file history), so
/// both follow the same new session whichever of them learns of the clear first.
#[derive(Debug, Clone)]
pub struct SessionIds(Arc<Mutex<Vec<String>>>);

impl SessionIds {
    /// Ids starting with `first`.
    pub fn new(first: String) -> Self {
        Self(Arc::new(Mutex::new(vec![first])))
    }

    /// The session id after `clears` clears (0: the first), generated on first request.
    pub fn after_clears(&self, clears: usize) -> String {
        let mut ids = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while ids.len() <= clears {
            ids.push(new_session_id());
        }
        ids[clears].clone()
    }
}

/// Records one session's conversation from the engine's events:
///
/// | event | record |
/// |---|---|
/// | `HistoryAppended` | the message (user, assistant with its tool calls, tool result) |
/// | `Usage` | the request's usage |
/// | `Compacted` | a compression (summary, how many messages it replaced, their replacement) |
/// | `SessionConfigured` | model / auth / mode records for what changed since the last one |
/// | `HistoryCleared` | a new session (new id, new transcript); the old one stays resumable |
/// | `Hook` | a `hook` record (event, command, scope, status, short reason; redacted, capped) |
/// | `SubagentStarted` / `SubagentFinished` | a subagent's start (linked to its `task` call) and end |
/// | `Subagent` wrapping `HistoryAppended` | a message of that subagent's conversation |
///
/// Everything else (deltas, tool progress, approvals, errors) is display only: the messages
/// carry what the model saw. `hook` records are display only too: resuming ignores them.
#[derive(Debug)]
pub struct Recorder {
    writer: SessionWriter,
    id: String,
    project_dir: PathBuf,
    start: SessionStart,
    sync: SyncPolicy,
    ids: SessionIds,
    clears: usize,
}

impl Recorder {
    /// Starts a new session (a fresh id) in `<project_dir>/chats/`.
    pub fn create(
        project_dir: &Path,
        start: SessionStart,
        sync: SyncPolicy,
    ) -> Result<Self, SessionError> {
        let id = new_session_id();
        let writer = SessionWriter::create(project_dir, start.header(id.clone()), sync)?;
        Ok(Self {
            writer,
            ids: SessionIds::new(id.clone()),
            clears: 0,
            id,
            project_dir: project_dir.to_path_buf(),
            start,
            sync,
        })
    }

    /// Continues `session` (`--continue`, `--resume`): new records follow its last complete one.
    /// `cwd` and `git_branch` describe where it continues (for a session started after a
    /// `/clear`).
    pub fn resume(
        session: &LoadedSession,
        cwd: String,
        git_branch: Option<String>,
        sync: SyncPolicy,
    ) -> Result<Self, SessionError> {
        let writer = SessionWriter::resume(session, sync)?;
        let state = session.state();
        let project_dir = session
            .path
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(Self {
            writer,
            ids: SessionIds::new(session.id().to_string()),
            clears: 0,
            id: session.id().to_string(),
            project_dir,
            start: SessionStart {
                cwd,
                git_branch,
                model: state.model,
                auth: state.auth,
                approval_mode: state.approval_mode,
            },
            sync,
        })
    }

    /// The id of the session being recorded.
    pub fn session_id(&self) -> &str {
        &self.id
    }

    /// The session ids of this recorder (now and after each `/clear`), to share with the
    /// checkpoint tracker.
    pub fn ids(&self) -> SessionIds {
        self.ids.clone()
    }

    /// The transcript being written.
    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// Records a title for the session being recorded (`/rename`).
    pub fn title(&mut self, title: &str) -> Result<(), SessionError> {
        self.writer.title(title).map(|_| ())
    }

    /// Whether [`Recorder::observe`] records anything for `event` — so that a caller on the
    /// per-token path hands over only those (a text delta never is).
    pub fn wants(event: &Event) -> bool {
        match event {
            Event::HistoryAppended { .. }
            | Event::Usage { .. }
            | Event::Compacted { .. }
            | Event::SessionConfigured { .. }
            | Event::HistoryCleared
            | Event::Hook { .. }
            | Event::SubagentStarted { .. }
            | Event::SubagentFinished { .. } => true,
            Event::Subagent { event, .. } => Self::wants_inner(event),
            Event::TurnStarted { .. }
            | Event::RequestStarted { .. }
            | Event::TextDelta { .. }
            | Event::ReasoningDelta { .. }
            | Event::ResponseComplete { .. }
            | Event::ToolCallBegin { .. }
            | Event::ToolOutputDelta { .. }
            | Event::ToolCallEnd { .. }
            | Event::ApprovalRequest { .. }
            | Event::ApprovalDecided { .. }
            | Event::TodoUpdate { .. }
            | Event::Retry { .. }
            | Event::Warning { .. }
            | Event::ToolProgress { .. }
            | Event::Error { .. }
            | Event::TurnComplete { .. }
            | Event::SystemPromptUpdated
            | Event::ShutdownComplete => false,
        }
    }

    /// Of a subagent's own events: its messages, and its own subagents' starts and ends.
    fn wants_inner(event: &Event) -> bool {
        match event {
            Event::HistoryAppended { .. }
            | Event::SubagentStarted { .. }
            | Event::SubagentFinished { .. } => true,
            Event::Subagent { event, .. } => Self::wants_inner(event),
            _ => false,
        }
    }

    /// Records a subagent's event: starts, ends and the messages of its conversation (its
    /// usage is in its end record; nothing of it enters the parent's history).
    fn observe_subagent(&mut self, event: &Event) -> Result<(), SessionError> {
        use crate::record::RecordBody;
        match event {
            Event::SubagentStarted {
                agent_id,
                parent_call_id,
                subagent_type,
                description,
            } => {
                self.writer.subagent(RecordBody::SubagentStart {
                    agent_id: agent_id.clone(),
                    tool_call_id: parent_call_id.clone(),
                    subagent_type: subagent_type.clone(),
                    description: description.clone(),
                })?;
            }
            Event::SubagentFinished {
                agent_id,
                status,
                usage,
                ..
            } => {
                self.writer.subagent(RecordBody::SubagentEnd {
                    agent_id: agent_id.clone(),
                    status: status.clone(),
                    usage: *usage,
                })?;
            }
            Event::Subagent {
                agent_id, event, ..
            } => match event.as_ref() {
                Event::HistoryAppended { message } => {
                    self.writer.subagent(RecordBody::SubagentMessage {
                        agent_id: agent_id.clone(),
                        message: message.clone(),
                    })?;
                }
                inner => self.observe_subagent(inner)?,
            },
            _ => {}
        }
        Ok(())
    }

    /// Records what `event` changes in the conversation or the session's state.
    pub fn observe(&mut self, event: &Event) -> Result<(), SessionError> {
        match event {
            Event::HistoryAppended { message } => {
                self.writer.message(message)?;
            }
            Event::Usage { usage, .. } => {
                self.writer.usage(*usage)?;
            }
            Event::Compacted {
                summary,
                replaced,
                messages,
                ..
            } => {
                self.writer
                    .compression(summary, *replaced, messages.clone())?;
            }
            Event::SessionConfigured {
                model,
                auth,
                approval_mode,
                ..
            } => {
                if *model != self.start.model {
                    self.writer.model(model)?;
                    self.start.model = model.clone();
                }
                if *auth != self.start.auth {
                    self.writer.auth(*auth)?;
                    self.start.auth = *auth;
                }
                if *approval_mode != self.start.approval_mode {
                    self.writer.mode(*approval_mode)?;
                    self.start.approval_mode = *approval_mode;
                }
            }
            Event::Hook {
                hook_event,
                command,
                scope,
                status,
                message,
            } => {
                self.writer.hook(&HookRecord {
                    event: hook_event,
                    command,
                    scope,
                    status,
                    message: message.as_deref(),
                })?;
            }
            Event::SubagentStarted { .. }
            | Event::Subagent { .. }
            | Event::SubagentFinished { .. } => self.observe_subagent(event)?,
            Event::HistoryCleared => {
                self.clears += 1;
                let id = self.ids.after_clears(self.clears);
                self.writer = SessionWriter::create(
                    &self.project_dir,
                    self.start.header(id.clone()),
                    self.sync,
                )?;
                self.id = id;
            }
            Event::TurnStarted { .. }
            | Event::RequestStarted { .. }
            | Event::TextDelta { .. }
            | Event::ReasoningDelta { .. }
            | Event::ResponseComplete { .. }
            | Event::ToolCallBegin { .. }
            | Event::ToolOutputDelta { .. }
            | Event::ToolCallEnd { .. }
            | Event::ApprovalRequest { .. }
            | Event::ApprovalDecided { .. }
            | Event::TodoUpdate { .. }
            | Event::Retry { .. }
            | Event::Warning { .. }
            | Event::ToolProgress { .. }
            | Event::Error { .. }
            | Event::TurnComplete { .. }
            | Event::SystemPromptUpdated
            | Event::ShutdownComplete => {}
        }
        Ok(())
    }
}
