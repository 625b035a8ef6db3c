//! The session commands: `/resume` (a picker of this project's sessions; choosing one ends the
//! TUI with [`ExitReason::Switch`]), `/export [FILE]`, `/rename TITLE` and `/rewind` (a picker of
//! this session's prompts, then what to restore; carried out by the binary after the TUI ends
//! with [`ExitReason::Rewind`], because the transcript is locked while it is recorded). The
//! back ends are [`crate::Services`] calls; the TUI reads no session file itself.

use super::{App, PopupKind};
use crate::popup::{Popup, PopupItem};
use crate::services::{RewindEntry, SessionEntry};
use crate::transcript::NoticeKind;
use crate::{ExitReason, Overwrite, RewindConflict, RewindScope};

/// The `/rewind` choices, in the order shown.
const SCOPES: &[(RewindScope, &str, &str)] = &[
    (
        RewindScope::Both,
        "code and conversation",
        "restore the files and go back in the conversation",
    ),
    (
        RewindScope::ConversationOnly,
        "conversation only",
        "go back in the conversation; the files stay as they are",
    ),
    (
        RewindScope::CodeOnly,
        "code only",
        "restore the files; the conversation stays as it is",
    ),
];

/// The picker rows for `entries` whose text contains `filter` (case-insensitive, every word).
pub(crate) fn session_items(entries: &[SessionEntry], filter: &str) -> Vec<PopupItem> {
    let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
    entries
        .iter()
        .filter(|e| {
            let hay = format!("{} {} {}", e.title, e.first_prompt, e.id).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .map(|e| {
            let turns = if e.turns == 1 {
                "1 turn".to_string()
            } else {
                format!("{} turns", e.turns)
            };
            let mut description = format!("{} · {turns}", e.when);
            if !e.first_prompt.is_empty() && e.first_prompt != e.title {
                description.push_str(" · ");
                description.push_str(&e.first_prompt);
            }
            PopupItem {
                value: e.id.clone(),
                label: shorten(&e.title, 48),
                description,
            }
        })
        .collect()
}

/// The `/rewind` picker rows, newest prompt first.
pub(crate) fn rewind_items(entries: &[RewindEntry]) -> Vec<PopupItem> {
    entries
        .iter()
        .rev()
        .map(|e| {
            let description = match e.files.len() {
                0 => "no file changes".to_string(),
                n => {
                    let shown: Vec<&str> = e.files.iter().take(3).map(String::as_str).collect();
                    let more = if n > 3 {
                        format!(" +{}", n - 3)
                    } else {
                        String::new()
                    };
                    let files = if n == 1 { "file" } else { "files" };
                    format!("{n} {files}: {}{more}", shown.join(", "))
                }
            };
            PopupItem {
                value: e.turn.to_string(),
                label: format!("{}. {}", e.turn, shorten(first_line(&e.prompt), 48)),
                description,
            }
        })
        .collect()
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

impl App {
    // ---- /resume -------------------------------------------------------------------------

    pub(crate) fn open_resume(&mut self) {
        let Some(s) = self.services("resume") else {
            return;
        };
        self.spawn_reply(0, async move {
            super::ServiceReply::Sessions(s.list_sessions().await)
        });
    }

    pub(crate) fn sessions_listed(
        &mut self,
        result: Result<Vec<SessionEntry>, qcode_protocol::Problem>,
    ) {
        match result {
            Ok(entries) if entries.is_empty() => self.notice(
                NoticeKind::Info,
                "No recorded session in this project yet",
                None,
            ),
            Ok(entries) => {
                let mut p = Popup::new(session_items(&entries, ""))
                    .with_title("Resume a session (type to filter, Enter to resume, Esc to close)");
                p.empty_text = "no matching session".into();
                self.prompt.composer_mut().clear();
                self.prompt
                    .show_popup(PopupKind::Sessions { all: entries }, p);
            }
            Err(e) => self.notice(
                NoticeKind::Error,
                format!("Cannot list the sessions: {}", e.one_line()),
                None,
            ),
        }
    }

    pub(crate) fn resume_chosen(&mut self, id: &str) {
        self.prompt.close_popup();
        self.prompt.composer_mut().clear();
        if self.running.is_running() {
            self.notice(
                NoticeKind::Error,
                "A turn is running",
                Some("wait for it to finish or press Esc, then /resume again".into()),
            );
            return;
        }
        self.quit(ExitReason::Switch(id.to_string()));
    }

    // ---- /export and /rename -------------------------------------------------------------

    pub(crate) fn export_command(&mut self, args: &str) {
        let Some(s) = self.services("export") else {
            return;
        };
        let file = (!args.is_empty()).then(|| args.to_string());
        self.spawn_reply(0, async move {
            super::ServiceReply::Exported(s.export_session(file).await)
        });
    }

    pub(crate) fn rename_command(&mut self, args: &str) {
        if args.is_empty() {
            self.notice(
                NoticeKind::Error,
                "/rename needs a title",
                Some("type /rename <title>".into()),
            );
            return;
        }
        let Some(s) = self.services("rename") else {
            return;
        };
        let title = args.to_string();
        self.spawn_reply(0, async move {
            super::ServiceReply::Renamed(s.rename_session(title).await)
        });
    }

    pub(crate) fn session_result(
        &mut self,
        what: &str,
        result: Result<String, qcode_protocol::Problem>,
    ) {
        match result {
            Ok(text) => self.notice(NoticeKind::Info, text, None),
            Err(e) => self.notice(
                NoticeKind::Error,
                format!("{what} failed: {}", e.one_line()),
                None,
            ),
        }
    }

    // ---- /rewind -------------------------------------------------------------------------

    pub(crate) fn open_rewind(&mut self) {
        if self.running.is_running() {
            self.notice(
                NoticeKind::Error,
                "A turn is running",
                Some("wait for it to finish or press Esc, then /rewind again".into()),
            );
            return;
        }
        let Some(s) = self.services("rewind") else {
            return;
        };
        self.spawn_reply(0, async move {
            super::ServiceReply::RewindPoints(s.rewind_points().await)
        });
    }

    pub(crate) fn rewind_points_listed(
        &mut self,
        result: Result<Vec<RewindEntry>, qcode_protocol::Problem>,
    ) {
        match result {
            Ok(entries) if entries.is_empty() => {
                self.notice(NoticeKind::Info, "Nothing to rewind: no prompt yet", None)
            }
            Ok(entries) => {
                let p = Popup::new(rewind_items(&entries))
                    .with_title("Rewind to before which prompt? (Enter to choose, Esc to cancel)");
                self.prompt
                    .show_popup(PopupKind::Rewind { all: entries }, p);
            }
            Err(e) => self.notice(
                NoticeKind::Error,
                format!("Cannot rewind: {}", e.one_line()),
                None,
            ),
        }
    }

    /// A prompt was chosen: ask what to restore.
    pub(crate) fn rewind_turn_chosen(&mut self, all: &[RewindEntry], value: &str) {
        self.prompt.close_popup();
        let Some(entry) = value
            .parse::<u32>()
            .ok()
            .and_then(|t| all.iter().find(|e| e.turn == t))
        else {
            return;
        };
        let items = SCOPES
            .iter()
            .map(|(_, label, description)| PopupItem {
                value: (*label).into(),
                label: (*label).into(),
                description: (*description).into(),
            })
            .collect();
        let p = Popup::new(items).with_title(&format!(
            "Rewind to before prompt {}: restore what? (Enter to choose, Esc to cancel)",
            entry.turn
        ));
        self.prompt.show_popup(
            PopupKind::RewindScope {
                turn: entry.turn,
                prompt: entry.prompt.clone(),
            },
            p,
        );
    }

    pub(crate) fn rewind_scope_chosen(&mut self, turn: u32, prompt: String, value: &str) {
        self.prompt.close_popup();
        let Some((scope, _, _)) = SCOPES.iter().find(|(_, label, _)| *label == value) else {
            return;
        };
        self.quit(ExitReason::Rewind {
            turn,
            scope: *scope,
            overwrite: Overwrite::Refuse,
            prompt,
        });
    }

    /// A rewind was refused because of files changed outside qcode: ask.
    pub(crate) fn ask_rewind_conflict(&mut self, conflict: RewindConflict) {
        let files = conflict.paths.join(", ");
        self.notice(
            NoticeKind::Warning,
            format!("These files were changed outside qcode since its last change: {files}"),
            Some("rewinding overwrites them".into()),
        );
        let items = vec![
            PopupItem {
                value: "overwrite".into(),
                label: "overwrite".into(),
                description: format!("rewind to before prompt {} anyway", conflict.turn),
            },
            PopupItem {
                value: "cancel".into(),
                label: "cancel".into(),
                description: "leave everything as it is".into(),
            },
        ];
        let mut p = Popup::new(items).with_title("Overwrite the files changed outside qcode?");
        p.selected = 1;
        self.prompt
            .show_popup(PopupKind::RewindConfirm { conflict }, p);
    }

    pub(crate) fn rewind_confirmed(&mut self, conflict: RewindConflict, value: &str) {
        self.prompt.close_popup();
        if value == "overwrite" {
            self.quit(ExitReason::Rewind {
                turn: conflict.turn,
                scope: conflict.scope,
                overwrite: Overwrite::Confirmed,
                prompt: String::new(),
            });
        } else {
            self.notice(NoticeKind::Info, "Rewind cancelled; nothing changed", None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, title: &str, prompt: &str, turns: usize) -> SessionEntry {
        SessionEntry {
            id: id.into(),
            title: title.into(),
            when: "5 min ago".into(),
            turns,
            first_prompt: prompt.into(),
        }
    }

    #[test]
    fn session_rows_filter_on_every_word_case_insensitively() {
        let all = vec![
            entry("aaaa1111", "Fix the parser", "fix the parser bug", 3),
            entry("bbbb2222", "Write tests", "write tests for the Lexer", 1),
        ];
        let rows = session_items(&all, "");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].value, "aaaa1111");
        assert_eq!(
            rows[0].description,
            "5 min ago · 3 turns · fix the parser bug"
        );
        assert_eq!(
            rows[1].description,
            "5 min ago · 1 turn · write tests for the Lexer"
        );
        let rows = session_items(&all, "LEXER tests");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].value, "bbbb2222");
        assert!(session_items(&all, "parser lexer").is_empty());
        // The id (prefix) matches too.
        assert_eq!(session_items(&all, "bbbb")[0].value, "bbbb2222");
    }

    #[test]
    fn rewind_rows_are_newest_first_with_their_files() {
        let all = vec![
            RewindEntry {
                turn: 1,
                prompt: "first\nmore".into(),
                files: vec![],
            },
            RewindEntry {
                turn: 2,
                prompt: "second".into(),
                files: vec!["a.rs".into(), "b.rs".into(), "c.rs".into(), "d.rs".into()],
            },
        ];
        let rows = rewind_items(&all);
        assert_eq!(rows[0].label, "2. second");
        assert_eq!(rows[0].description, "4 files: a.rs, b.rs, c.rs +1");
        assert_eq!(rows[1].label, "1. first");
        assert_eq!(rows[1].description, "no file changes");
    }
}
