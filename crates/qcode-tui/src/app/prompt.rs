//! [`Prompt`]: the composer and the state around it — the completion popup (slash commands,
//! `@` files, the model and approval-mode pickers), the `@` file index, the dim hint line above
//! the prompt, and the armed "Ctrl+C again to exit".

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::composer::Composer;
use crate::files;
use crate::popup::{Popup, PopupItem};
use crate::services::CustomCommandInfo;
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
    /// The command popup just opened: time to ask for the custom commands again (their files
    /// may have changed).
    CommandsOpened,
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
    /// Custom commands and MCP prompts as last listed by the services.
    custom: Vec<CustomCommandInfo>,
}

impl Prompt {
    pub fn new(history_file: Option<PathBuf>) -> Self {
        Self {
            composer: Composer::new(history_file),
            popup: None,
            files: FilesState::NotStarted,
            hint: None,
            ctrl_c_at: None,
            custom: Vec::new(),
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

    /// Custom commands and MCP prompts as last listed (a built-in name always wins, so those
    /// are left out).
    pub fn custom(&self) -> &[CustomCommandInfo] {
        &self.custom
    }

    pub fn set_custom(&mut self, commands: Vec<CustomCommandInfo>) {
        self.custom = commands
            .into_iter()
            .filter(|c| !slash::is_builtin(&c.name))
            .collect();
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
            let mut items: Vec<PopupItem> = slash::filter(rest)
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
            items.extend(
                filter_custom(rest, &self.custom)
                    .into_iter()
                    .map(custom_item),
            );
            let opened = match &mut self.popup {
                Some((PopupKind::Slash, p)) => {
                    p.set_items(items);
                    false
                }
                _ => {
                    let mut p = Popup::new(items);
                    p.empty_text = "no matching command".into();
                    self.popup = Some((PopupKind::Slash, p));
                    true
                }
            };
            return if opened {
                Refresh::CommandsOpened
            } else {
                Refresh::Done
            };
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

/// Custom commands whose name starts with (then contains) `prefix`.
fn filter_custom<'a>(prefix: &str, all: &'a [CustomCommandInfo]) -> Vec<&'a CustomCommandInfo> {
    let p = prefix.to_ascii_lowercase();
    let lower = |c: &CustomCommandInfo| c.name.to_ascii_lowercase();
    let mut out: Vec<&CustomCommandInfo> =
        all.iter().filter(|c| lower(c).starts_with(&p)).collect();
    for c in all {
        if lower(c).contains(&p) && !out.iter().any(|o| std::ptr::eq(*o, c)) {
            out.push(c);
        }
    }
    out
}

/// The label of a custom command: `/name <hint>`.
pub(crate) fn custom_label(c: &CustomCommandInfo) -> String {
    if c.argument_hint.is_empty() {
        format!("/{}", c.name)
    } else {
        format!("/{} {}", c.name, c.argument_hint)
    }
}

/// What a custom command's row says after its name: its description and where it comes from
/// (or why it will not run).
pub(crate) fn custom_description(c: &CustomCommandInfo) -> String {
    let mut text = match &c.blocked {
        Some(why) => format!("[{}, not loaded: {why}]", c.source.label()),
        None => format!("[{}]", c.source.label()),
    };
    if !c.description.is_empty() {
        text = format!("{} {text}", c.description);
    }
    text
}

fn custom_item(c: &CustomCommandInfo) -> PopupItem {
    PopupItem {
        value: c.name.clone(),
        label: custom_label(c),
        description: custom_description(c),
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

#[cfg(test)]
mod custom_tests {
    use super::*;
    use crate::services::CommandSource;
    use crate::testutil::buffer_text;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    fn info(name: &str, hint: &str, source: CommandSource) -> CustomCommandInfo {
        CustomCommandInfo {
            name: name.into(),
            description: format!("{name} things"),
            argument_hint: hint.into(),
            source,
            blocked: None,
        }
    }

    #[test]
    fn the_popup_lists_custom_commands_after_the_built_ins_with_hint_and_source() {
        let mut p = Prompt::new(None);
        let mut untrusted = info("deploy", "", CommandSource::Project);
        untrusted.blocked = Some("it runs shell commands and this folder is not trusted".into());
        p.set_custom(vec![
            info("review", "<path>", CommandSource::User),
            info("git:commit", "[message]", CommandSource::ProjectQwen),
            info(
                "mcp__ev__args-prompt",
                "<city> [state]",
                CommandSource::Mcp {
                    server: "ev".into(),
                },
            ),
            untrusted,
            // A built-in name always wins: never listed as a custom command.
            info("help", "", CommandSource::Project),
        ]);
        p.composer_mut().set_text("/re");
        assert_eq!(p.refresh_popup(), Refresh::CommandsOpened);
        p.composer_mut().set_text("/");
        assert_eq!(p.refresh_popup(), Refresh::Done, "asked once per opening");
        let (_, popup) = p.popup().unwrap();
        let labels: Vec<&str> = popup.items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels.iter().filter(|l| **l == "/help").count(), 1);
        p.composer_mut().set_text("/e");
        let _ = p.refresh_popup();
        let (_, popup) = p.popup().unwrap();
        let mut popup = popup.clone();
        popup.items.retain(|i| !crate::slash::is_builtin(&i.value));
        let mut buf = Buffer::empty(Rect::new(0, 0, 110, popup.height()));
        ratatui::widgets::Widget::render(&popup, buf.area, &mut buf);
        insta::assert_snapshot!(buffer_text(&buf));
    }
}
