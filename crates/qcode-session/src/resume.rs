//! Which recorded session a run continues, found and loaded.

use std::path::Path;

use crate::{LoadedSession, SessionError, find, fork, load, most_recent, new_session_id};

/// Which recorded session a run continues.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResumeFrom {
    /// A new session.
    #[default]
    New,
    /// `--continue`: the most recent session of this project.
    MostRecent,
    /// `--resume ID`: the session with this id or unique id prefix.
    Id(String),
}

/// Whether a resumed session continues its own transcript or a copy under a new id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fork {
    /// Append to the same transcript (same id).
    #[default]
    No,
    /// `--fork-session`: copy the transcript under a new id and continue the copy; the original
    /// stays as it was.
    Yes,
}

/// Which session a run continues, and whether as a copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resume {
    pub from: ResumeFrom,
    pub fork: Fork,
}

/// The session `resume.from` names in `project_dir`, loaded (`None` for [`ResumeFrom::New`]); with
/// [`Fork::Yes`], a copy of it under a new id. No session to continue is
/// [`SessionError::NothingToContinue`] / [`SessionError::NotFound`].
pub fn open_to_resume(
    project_dir: &Path,
    resume: &Resume,
) -> Result<Option<LoadedSession>, SessionError> {
    let path = match &resume.from {
        ResumeFrom::New => return Ok(None),
        ResumeFrom::Id(id) => find(project_dir, id)?,
        ResumeFrom::MostRecent => match most_recent(project_dir)? {
            Some(path) => path,
            None => return Err(SessionError::NothingToContinue),
        },
    };
    let path = match resume.fork {
        Fork::No => path,
        Fork::Yes => fork(&path, &new_session_id())?,
    };
    load(&path).map(Some)
}

/// The checked-out branch of the git repository at `project_root` (read from `.git/HEAD`;
/// `None` for a detached head or no repository).
pub fn git_branch(project_root: &Path) -> Option<String> {
    let head = std::fs::read_to_string(project_root.join(".git").join("HEAD")).ok()?;
    head.trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_continue_is_not_found_and_new_loads_nothing() {
        let t = tempfile::tempdir().unwrap();
        assert!(
            open_to_resume(t.path(), &Resume::default())
                .unwrap()
                .is_none()
        );
        let most_recent = Resume {
            from: ResumeFrom::MostRecent,
            fork: Fork::No,
        };
        let e = open_to_resume(t.path(), &most_recent).unwrap_err();
        assert!(matches!(e, SessionError::NothingToContinue), "{e}");
        let p = qcode_protocol::Problem::from(e);
        assert_eq!(p.kind, qcode_protocol::ErrorKind::Input);
        assert!(p.hint.is_some() && !p.message.contains("hint:"), "{p:?}");
    }

    #[test]
    fn branch_from_head() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join(".git")).unwrap();
        std::fs::write(t.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(git_branch(t.path()).as_deref(), Some("main"));
        std::fs::write(t.path().join(".git/HEAD"), "0123abcd\n").unwrap();
        assert_eq!(git_branch(t.path()), None);
    }
}
