//! Markdown → styled terminal lines (pulldown-cmark): headings, emphasis, lists, task lists,
//! quotes, tables, inline code, fenced code with lazily loaded syntax highlighting, and links
//! shown as their text followed by the URL.
//!
//! Output lines are logical (not wrapped); soft breaks keep the source's line structure so that
//! a streamed answer renders the same lines whether it is rendered whole or in pieces. Blank
//! separator lines are emitted *before* a block, never after, which keeps rendering of a growing
//! prefix monotone (see `transcript::stream`).

mod highlight;
mod table;

pub use highlight::Highlighter;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use table::{CellSpans, render_table};

/// Style of inline code and unhighlighted code blocks.
pub fn code_style() -> Style {
    Style::default().fg(Color::Cyan)
}

/// Whether fenced code may be syntax highlighted (committed lines) or not (the live tail,
/// re-rendered every frame, stays cheap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Highlighting {
    On,
    Off,
}

/// Renders markdown to logical lines. `width` only matters for tables and rules.
pub fn render(
    src: &str,
    width: usize,
    hl: Option<&Highlighter>,
    highlighting: Highlighting,
) -> Vec<Line<'static>> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut w = Writer {
        width: width.max(10),
        hl: match highlighting {
            Highlighting::On => hl,
            Highlighting::Off => None,
        },
        ..Writer::default()
    };
    for event in Parser::new_ext(src, options) {
        w.event(event);
    }
    w.flush_line();
    w.out
}

enum Container {
    Quote,
    Item {
        marker: String,
        first_line_pending: bool,
    },
}

struct TableState {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<CellSpans>>,
    row: Vec<CellSpans>,
    cell: CellSpans,
}

#[derive(Default)]
struct Writer<'a> {
    width: usize,
    hl: Option<&'a Highlighter>,
    out: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    lists: Vec<Option<u64>>,
    need_blank: bool,
    code: Option<(String, String)>,
    links: Vec<(String, String)>,
    table: Option<TableState>,
}

impl Writer<'_> {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, f: impl FnOnce(Style) -> Style) {
        let s = f(self.style());
        self.styles.push(s);
    }

    fn prefix(&mut self) -> Vec<Span<'static>> {
        let mut spans = Vec::new();
        for c in &mut self.containers {
            match c {
                Container::Quote => {
                    spans.push(Span::styled("│ ", Style::default().fg(Color::Green)))
                }
                Container::Item {
                    marker,
                    first_line_pending,
                } => {
                    if *first_line_pending {
                        *first_line_pending = false;
                        spans.push(Span::styled(
                            marker.clone(),
                            Style::default().fg(Color::Blue),
                        ));
                    } else {
                        spans.push(Span::raw(" ".repeat(crate::wrap::str_width(marker))));
                    }
                }
            }
        }
        spans
    }

    fn flush_line(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let mut spans = self.prefix();
        spans.append(&mut self.spans);
        self.out.push(Line::from(spans));
    }

    fn push_line(&mut self, content: Vec<Span<'static>>) {
        let mut spans = self.prefix();
        spans.extend(content);
        self.out.push(Line::from(spans));
    }

    fn block_start(&mut self) {
        self.flush_line();
        if self.need_blank && !self.out.is_empty() {
            let quote_bars: Vec<Span<'static>> = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .map(|_| Span::styled("│", Style::default().fg(Color::Green)))
                .collect();
            self.out.push(Line::from(quote_bars));
        }
        self.need_blank = false;
    }

    fn text(&mut self, text: &str, style: Style) {
        if let Some(link) = self.links.last_mut() {
            link.1.push_str(text);
        }
        if let Some(t) = &mut self.table {
            t.cell.push(Span::styled(text.replace('\n', " "), style));
            return;
        }
        let mut first = true;
        for piece in text.split('\n') {
            if !first {
                self.flush_line();
            }
            first = false;
            if !piece.is_empty() {
                self.spans.push(Span::styled(piece.to_string(), style));
            }
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if let Some((_, buf)) = &mut self.code {
                    buf.push_str(&t);
                } else {
                    let style = self.style();
                    self.text(&t, style);
                }
            }
            Event::Code(t) => {
                let style = self.style().patch(code_style());
                self.text(&t, style);
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                let style = self.style().patch(code_style());
                self.text(&t, style);
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                let style = self.style().add_modifier(Modifier::DIM);
                self.text(t.trim_end_matches('\n'), style);
            }
            Event::FootnoteReference(t) => {
                let style = self.style();
                self.text(&format!("[^{t}]"), style);
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(t) = &mut self.table {
                    t.cell.push(Span::raw(" "));
                } else {
                    self.flush_line();
                }
            }
            Event::Rule => {
                self.block_start();
                let n = self.width.min(40);
                self.push_line(vec![Span::styled(
                    "─".repeat(n),
                    Style::default().add_modifier(Modifier::DIM),
                )]);
                self.need_blank = true;
            }
            Event::TaskListMarker(checked) => {
                let mark = if checked { "[x] " } else { "[ ] " };
                self.text(mark, Style::default().fg(Color::Blue));
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.block_start(),
            Tag::Heading { level, .. } => {
                self.block_start();
                let base = Style::default().add_modifier(Modifier::BOLD);
                let style = match level {
                    HeadingLevel::H1 => base.fg(Color::Magenta).add_modifier(Modifier::UNDERLINED),
                    HeadingLevel::H2 => base.fg(Color::Magenta),
                    HeadingLevel::H3 => base,
                    HeadingLevel::H4 | HeadingLevel::H5 | HeadingLevel::H6 => {
                        base.add_modifier(Modifier::ITALIC)
                    }
                };
                self.styles.push(style);
                let hashes = "#".repeat(level as usize);
                self.text(&format!("{hashes} "), style);
            }
            Tag::BlockQuote(_) => {
                self.block_start();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush_line();
                if !self
                    .containers
                    .iter()
                    .any(|c| matches!(c, Container::Item { .. }))
                {
                    self.block_start();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush_line();
                if self.need_blank && !self.out.is_empty() {
                    self.out.push(Line::default());
                }
                self.need_blank = false;
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    Some(None) | None => "- ".to_string(),
                };
                self.containers.push(Container::Item {
                    marker,
                    first_line_pending: true,
                });
            }
            Tag::Emphasis => self.push_style(|s| s.add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(|s| s.add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(|s| s.add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.links.push((dest_url.to_string(), String::new()));
                self.push_style(|s| s.fg(Color::Blue).add_modifier(Modifier::UNDERLINED));
            }
            Tag::Image { dest_url, .. } => {
                self.links.push((dest_url.to_string(), String::new()));
                self.push_style(|s| s.add_modifier(Modifier::ITALIC));
                let style = self.style();
                self.text("[image: ", style);
            }
            Tag::Table(aligns) => {
                self.block_start();
                self.table = Some(TableState {
                    aligns,
                    rows: Vec::new(),
                    row: Vec::new(),
                    cell: Vec::new(),
                });
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => {}
            Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush_line();
                self.need_blank = true;
            }
            TagEnd::Heading(_) => {
                self.flush_line();
                self.styles.pop();
                self.need_blank = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush_line();
                self.containers.pop();
                self.need_blank = true;
            }
            TagEnd::CodeBlock => {
                if let Some((lang, code)) = self.code.take() {
                    let lines = self
                        .hl
                        .and_then(|h| h.highlight(&lang, &code))
                        .unwrap_or_else(|| {
                            code.lines()
                                .map(|l| Line::from(Span::styled(l.to_string(), code_style())))
                                .collect()
                        });
                    for line in lines {
                        self.push_line(line.spans);
                    }
                }
                self.need_blank = true;
            }
            TagEnd::List(_) => {
                self.flush_line();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.need_blank = true;
                }
            }
            TagEnd::Item => {
                self.flush_line();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some((url, text)) = self.links.pop()
                    && !url.is_empty()
                    && text != url
                    && !url.starts_with('#')
                {
                    self.text(
                        &format!(" ({url})"),
                        Style::default().add_modifier(Modifier::DIM),
                    );
                }
            }
            TagEnd::Image => {
                let style = self.style();
                self.text("]", style);
                self.styles.pop();
                if let Some((url, _)) = self.links.pop() {
                    self.text(
                        &format!(" ({url})"),
                        Style::default().add_modifier(Modifier::DIM),
                    );
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    let prefix_width: usize = self.containers.len() * 2;
                    let lines =
                        render_table(&t.aligns, &t.rows, self.width.saturating_sub(prefix_width));
                    for line in lines {
                        self.push_line(line.spans);
                    }
                }
                self.need_blank = true;
            }
            TagEnd::HtmlBlock => {
                self.flush_line();
                self.need_blank = true;
            }
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::MetadataBlock(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
