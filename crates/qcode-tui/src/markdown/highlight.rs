//! Lazily loaded syntax highlighting for fenced code blocks.
//!
//! Loading syntect's default syntax and theme sets costs tens of milliseconds, so it never runs
//! on the start-up path: [`Highlighter::start_loading`] loads them on a background thread (the
//! app calls it after the first frame, and again harmlessly on the first code fence). Until the
//! sets are ready, code renders uncoloured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

struct Loaded {
    syntaxes: SyntaxSet,
    theme: Theme,
}

/// A cheap, clonable handle to the shared (lazily loaded) syntax sets.
#[derive(Clone, Default)]
pub struct Highlighter {
    loaded: Arc<OnceLock<Loaded>>,
    started: Arc<AtomicBool>,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Highlighter")
            .field("ready", &self.is_ready())
            .finish()
    }
}

fn load() -> Loaded {
    let syntaxes = SyntaxSet::load_defaults_newlines();
    let mut themes = ThemeSet::load_defaults();
    let theme = themes
        .themes
        .remove("base16-ocean.dark")
        .or_else(|| themes.themes.into_values().next())
        .unwrap_or_default();
    Loaded { syntaxes, theme }
}

impl Highlighter {
    pub fn new() -> Self {
        Self::default()
    }

    /// True once the syntax sets are loaded.
    pub fn is_ready(&self) -> bool {
        self.loaded.get().is_some()
    }

    /// Starts loading on a background thread (once); `on_ready` runs on that thread when done.
    pub fn start_loading(&self, on_ready: impl FnOnce() + Send + 'static) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let loaded = Arc::clone(&self.loaded);
        let spawned = std::thread::Builder::new()
            .name("qcode-syntax".into())
            .spawn(move || {
                let _ = loaded.get_or_init(load);
                on_ready();
            });
        if spawned.is_err() {
            // No thread available: stay uncoloured rather than block the UI.
            self.started.store(false, Ordering::SeqCst);
        }
    }

    /// Loads synchronously (tests and tools that need deterministic output).
    pub fn load_blocking(&self) {
        self.started.store(true, Ordering::SeqCst);
        let _ = self.loaded.get_or_init(load);
    }

    /// Highlights `code` as `lang`. Returns `None` when the sets are not loaded yet or the
    /// language is unknown; the caller then renders plain text.
    pub fn highlight(&self, lang: &str, code: &str) -> Option<Vec<Line<'static>>> {
        let loaded = self.loaded.get()?;
        let token = lang.split([',', ' ']).next().unwrap_or("").trim();
        if token.is_empty() {
            return None;
        }
        let syntax = loaded
            .syntaxes
            .find_syntax_by_token(token)
            .or_else(|| loaded.syntaxes.find_syntax_by_extension(token))?;
        let mut hl = HighlightLines::new(syntax, &loaded.theme);
        let mut out = Vec::new();
        for line in code.split_inclusive('\n') {
            let regions = hl.highlight_line(line, &loaded.syntaxes).ok()?;
            let spans: Vec<Span<'static>> = regions
                .into_iter()
                .filter_map(|(style, text)| {
                    let text = text.trim_end_matches(['\n', '\r']);
                    if text.is_empty() {
                        return None;
                    }
                    Some(Span::styled(text.to_string(), convert(style)))
                })
                .collect();
            out.push(Line::from(spans));
        }
        Some(out)
    }
}

fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ready_means_plain() {
        let h = Highlighter::new();
        assert!(h.highlight("rust", "fn main() {}\n").is_none());
    }

    #[test]
    fn highlights_rust_after_loading() {
        let h = Highlighter::new();
        h.load_blocking();
        let lines = h.highlight("rust", "fn main() {}\nlet x = 1;\n").unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].to_string(), "fn main() {}");
        assert!(lines[0].spans.len() > 1, "keywords get their own colour");
        assert!(h.highlight("no-such-language", "x").is_none());
    }
}
