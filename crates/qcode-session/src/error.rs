//! What can go wrong, in words a user acts on.

use std::io;
use std::path::PathBuf;

use qcode_protocol::ErrorKind;

/// A failed session operation.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] qcode_fs::WriteError),
    #[error("{} is not a qcode session transcript: {reason}", path.display())]
    NotATranscript { path: PathBuf, reason: String },
    #[error(
        "no session matches \"{query}\"\nhint: `qcode sessions list` shows this project's sessions"
    )]
    NotFound { query: String },
    #[error("there is no session to continue in this project\nhint: start one without --continue")]
    NothingToContinue,
    #[error("\"{query}\" matches several sessions: {}\nhint: type more of the id", candidates.join(", "))]
    Ambiguous {
        query: String,
        candidates: Vec<String>,
    },
    #[error("session {} is in use by another qcode process", path.display())]
    InUse { path: PathBuf },
    #[error("the session has no turn {turn} (it has {turns})")]
    NoSuchTurn { turn: u32, turns: u32 },
    #[error("{} is outside the workspace {}", path.display(), root.display())]
    OutsideWorkspace { path: PathBuf, root: PathBuf },
    #[error(
        "these files changed outside qcode since its last change, rewinding would overwrite them: {}\nhint: keep a copy, or rewind with --force",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    Conflicts { paths: Vec<PathBuf> },
    #[error("the checkpoint of {} is missing or damaged (blob {hash})", path.display())]
    MissingBlob { path: PathBuf, hash: String },
    #[error("cannot encode a session record: {0}")]
    Encode(#[from] serde_json::Error),
}

impl SessionError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The closed error category front ends map to messages and exit codes. A local file
    /// operation that failed counts as `Tool` (the closest kind: qcode's own action on the
    /// machine failed); what the user asked for that cannot be done is `Input`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } | Self::Write(_) | Self::MissingBlob { .. } => ErrorKind::Tool,
            Self::Encode(_) => ErrorKind::Internal,
            Self::NotFound { .. }
            | Self::NothingToContinue
            | Self::NotATranscript { .. }
            | Self::Ambiguous { .. }
            | Self::NoSuchTurn { .. }
            | Self::OutsideWorkspace { .. }
            | Self::Conflicts { .. }
            | Self::InUse { .. } => ErrorKind::Input,
        }
    }
}

/// A session error as a front end reports it: a hint the message carries (`…\nhint: …`) goes to
/// [`Problem::hint`](qcode_protocol::Problem).
impl From<SessionError> for qcode_protocol::Problem {
    fn from(e: SessionError) -> Self {
        let kind = e.kind();
        let text = e.to_string();
        match text.split_once("\nhint: ") {
            Some((message, hint)) => qcode_protocol::Problem::new(kind, message).with_hint(hint),
            None => qcode_protocol::Problem::new(kind, text),
        }
    }
}
