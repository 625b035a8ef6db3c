//! [`Prompt`]: the composer and the state around it — the completion popup (slash commands,
//! `@` files, the model and approval-mode pickers), the `@` file index, the dim hint line above
//! the prompt, and the armed "Ctrl+C again to exit".

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::composer::Composer;
use crate::files;
use crate::popup::{Popup, PopupItem};
use crate::slash;

/// Which popup is open above the composer.
#[derive(Debug, Clone, PartialEq)]
pub enum PopupKind {
    Slash,
    /// `@` completion; the byte offset of the `@`.
    Files {
        start: usize,
    },
    Model,
    ApprovalMode,
    /// `/resume`: every session; the composer's text filters them.
    Sessions {
        all: Vec<crate::SessionEntry>,
    },
    /// `/rewind`: this session's prompts.
    Rewind {
        all: Vec<crate::RewindEntry>,
    },
    /// `/rewind`: what to restore, once the prompt is chosen.
    RewindScope {
        turn: u32,
        prompt: String,
    },
    /// `/rewind` refused over files changed outside qcode: overwrite them?
    RewindConfirm {
        conflict: crate::RewindConflict,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum FilesState {
    NotStarted,
    Indexing,
    Ready(Vec<String>),
}

/// The outcome of [`Prompt::refresh_popup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Refresh {
    Done,
    /// The `@` picker needs the file index, which was not asked for yet.
    NeedsFileIndex,
}

/// What a second Ctrl+C on an idle, empty prompt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CtrlC {
    /// The first press: armed, the hint says to press again.
    Armed,
    /// Pressed again in time.
    Exit,
}

#[derive(Debug)]
pub(crate) struct Prompt {
    composer: Composer,
    popup: Option<(PopupKind, Popup)>,
    files: FilesState,
    /// A dim line above the prompt ("Approval mode: yolo") and when it was set.
    hint: Option<(String, Instant)>,
    ctrl_c_at: Option<Instant>,
}

impl Prompt {
    pub fn new(history_file: Option<PathBuf>) -> Self {
        Self {
            composer: Composer::new(history_file),
            popup: None,
            files: FilesState::NotStarted,
            hint: None,
            ctrl_c_at: None,
        }
    }

    pub fn composer(&self) -> &Composer {
        &self.composer
    }

    pub fn composer_mut(&mut self) -> &mut Composer {
        &mut self.composer
    }

    // ---- the popup -----------------------------------------------------------------------

    pub fn popup(&self) -> Option<&(PopupKind, Popup)> {
        self.popup.as_ref()
    }

    pub fn popup_mut(&mut self) -> Option<&mut (PopupKind, Popup)> {
        self.popup.as_mut()
    }

    pub fn show_popup(&mut self, kind: PopupKind, popup: Popup) {
        self.popup = Some((kind, popup));
    }

    /// Closes the popup; false if none was open.
    pub fn close_popup(&mut self) -> bool {
        self.popup.take().is_some()
    }

    pub fn files_indexing(&mut self) {
        self.files = FilesState::Indexing;
    }

    pub fn files_indexed(&mut self, files: Vec<String>) {
        self.files = FilesState::Ready(files);
    }

    /// Opens, updates or closes the slash / `@` popup after the composer changed. A picker
    /// (model, approval mode) stays as it is. The first `@` asks for the file index (start it,
    /// then refresh again).
    pub fn refresh_popup(&mut self) -> Refresh {
        if let Some((PopupKind::Sessions { all }, p)) = &mut self.popup {
            p.set_items(super::sessions::session_items(all, self.composer.text()));
            return Refresh::Done;
        }
        if matches!(
            self.popup,
            Some((
                PopupKind::Model
                    | PopupKind::ApprovalMode
                    | PopupKind::Rewind { .. }
                    | PopupKind::RewindScope { .. }
                    | PopupKind::RewindConfirm { .. },
                _
            ))
        ) {
            return Refresh::Done;
        }
        let text = self.composer.text();
        if let Some(rest) = text.strip_prefix('/')
            && !rest.contains(char::is_whitespace)
            && !rest.starts_with('/')
        {
            let items: Vec<PopupItem> = slash::filter(rest)
                .into_iter()
                .map(|c| PopupItem {
                    value: c.name.to_string(),
                    label: if c.args.is_empty() {
                        format!("/{}", c.name)
                    } else {
                        format!("/{} {}", c.name, c.args)
                    },
                    description: c.description.to_string(),
                })
                .collect();
            match &mut self.popup {
                Some((PopupKind::Slash, p)) => p.set_items(items),
                _ => {
                    let mut p = Popup::new(items);
                    p.empty_text = "no matching command".into();
                    self.popup = Some((PopupKind::Slash, p));
                }
            }
            return Refresh::Done;
        }
        if let Some((start, query)) = files::at_token(text, self.composer.cursor()) {
            if self.files == FilesState::NotStarted {
                return Refresh::NeedsFileIndex;
            }
            let (items, empty) = match &self.files {
                FilesState::Ready(all) => (
                    files::fuzzy_match(query, all, crate::popup::MAX_ROWS),
                    "no matching file",
                ),
                FilesState::Indexing | FilesState::NotStarted => (Vec::new(), "indexing files…"),
            };
            let items = items
                .into_iter()
                .map(|f| PopupItem {
                    value: f.clone(),
                    label: f,
                    description: String::new(),
                })
                .collect();
            let mut p = Popup::new(items);
            p.empty_text = empty.into();
            self.popup = Some((PopupKind::Files { start }, p));
            return Refresh::Done;
        }
        self.popup = None;
        Refresh::Done
    }

    // ---- the hint line and Ctrl+C --------------------------------------------------------

    pub fn set_hint(&mut self, text: &str, now: Instant) {
        self.hint = Some((text.to_string(), now));
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_ref().map(|(h, _)| h.as_str())
    }

    /// Drops the hint once it is older than `after`.
    pub fn expire_hint(&mut self, after: Duration) {
        if self.hint.as_ref().is_some_and(|(_, t)| t.elapsed() > after) {
            self.hint = None;
        }
    }

    /// Ctrl+C on an idle, empty prompt: exits if pressed again within `window`.
    pub fn ctrl_c(&mut self, now: Instant, window: Duration) -> CtrlC {
        if self
            .ctrl_c_at
            .is_some_and(|t| now.duration_since(t) < window)
        {
            CtrlC::Exit
        } else {
            self.ctrl_c_at = Some(now);
            CtrlC::Armed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(text: &str) -> Prompt {
        let mut p = Prompt::new(None);
        p.composer_mut().set_text(text);
        let _ = p.refresh_popup();
        p
    }

    #[test]
    fn a_slash_opens_the_filtered_command_list_and_a_space_closes_it() {
        let mut p = prompt("/he");
        let (kind, popup) = p.popup().unwrap();
        assert_eq!(*kind, PopupKind::Slash);
        assert_eq!(popup.selected().map(|i| i.value.as_str()), Some("help"));
        p.composer_mut().set_text("/help me");
        assert_eq!(p.refresh_popup(), Refresh::Done);
        assert!(p.popup().is_none());
    }

    #[test]
    fn an_at_sign_asks_for_the_file_index_once_and_then_matches() {
        let mut p = Prompt::new(None);
        p.composer_mut().set_text("look at @src");
        assert_eq!(p.refresh_popup(), Refresh::NeedsFileIndex);
        p.files_indexing();
        assert_eq!(p.refresh_popup(), Refresh::Done);
        assert_eq!(
            p.popup().map(|(_, pp)| pp.empty_text.as_str()),
            Some("indexing files…")
        );
        p.files_indexed(vec!["src/lib.rs".into(), "README.md".into()]);
        assert_eq!(p.refresh_popup(), Refresh::Done);
        let (kind, popup) = p.popup().unwrap();
        assert_eq!(*kind, PopupKind::Files { start: 8 });
        assert_eq!(
            popup.selected().map(|i| i.value.as_str()),
            Some("src/lib.rs")
        );
    }

    #[test]
    fn a_picker_survives_typing() {
        let mut p = Prompt::new(None);
        p.show_popup(PopupKind::Model, Popup::new(Vec::new()));
        p.composer_mut().set_text("x");
        assert_eq!(p.refresh_popup(), Refresh::Done);
        assert_eq!(p.popup().map(|(k, _)| k.clone()), Some(PopupKind::Model));
        assert!(p.close_popup());
        assert!(!p.close_popup());
    }

    #[test]
    fn ctrl_c_exits_only_when_pressed_again_in_time() {
        let mut p = Prompt::new(None);
        let window = Duration::from_secs(2);
        let t0 = Instant::now();
        assert_eq!(p.ctrl_c(t0, window), CtrlC::Armed);
        assert_eq!(p.ctrl_c(t0 + Duration::from_secs(1), window), CtrlC::Exit);
        let mut late = Prompt::new(None);
        assert_eq!(late.ctrl_c(t0, window), CtrlC::Armed);
        assert_eq!(
            late.ctrl_c(t0 + Duration::from_secs(3), window),
            CtrlC::Armed
        );
    }

    #[test]
    fn hints_expire() {
        let mut p = Prompt::new(None);
        p.set_hint("Approval mode: yolo", Instant::now());
        p.expire_hint(Duration::from_secs(60));
        assert_eq!(p.hint(), Some("Approval mode: yolo"));
        p.expire_hint(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        p.expire_hint(Duration::ZERO);
        assert_eq!(p.hint(), None);
    }
}
