//! The bottom pane: live turn output (reasoning tail, streaming answer tail, running tools
//! with the live blocks of their subagents), the working line, a popup or the approval modal,
//! the composer and the status line.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::App;
use crate::composer::{ComposerLayout, layout};
use crate::status::{SPINNER, working_line};
use crate::wrap::wrap_lines;

/// Reasoning lines shown live.
const REASONING_TAIL: usize = 3;
/// Composer rows shown at most.
const COMPOSER_ROWS: u16 = 10;

/// What one frame shows, computed once and used for both the height and the drawing.
pub struct FramePlan {
    live: Vec<Line<'static>>,
    working: Option<Line<'static>>,
    composer: ComposerLayout,
    composer_rows: u16,
    popup_rows: u16,
    modal_rows: u16,
    dialog_rows: u16,
    height: u16,
}

impl FramePlan {
    pub fn height(&self) -> u16 {
        self.height
    }
}

impl App {
    fn spinner_frame(&self) -> usize {
        (self.started.elapsed().as_millis() / 80) as usize
    }

    /// Lays out the bottom pane for `width` columns and at most `max_height` rows.
    pub fn plan(&mut self, width: u16, max_height: u16) -> FramePlan {
        self.set_width(width);
        self.prompt.expire_hint(super::CTRL_C_WINDOW);
        let w = width as usize;
        let spinner = SPINNER[self.spinner_frame() % SPINNER.len()];
        let mut live: Vec<Line<'static>> = Vec::new();
        if let Some(turn) = self.running.current() {
            if let Some((text, _)) = &turn.reasoning {
                let style = Style::default().add_modifier(Modifier::DIM | Modifier::ITALIC);
                let lines: Vec<Line<'static>> = text
                    .lines()
                    .map(|l| Line::from(Span::styled(l.to_string(), style)))
                    .collect();
                let wrapped = wrap_lines(&lines, w);
                let skip = wrapped.len().saturating_sub(REASONING_TAIL);
                live.push(Line::from(Span::styled(
                    "✻ Thinking…",
                    Style::default().add_modifier(Modifier::DIM),
                )));
                live.extend(wrapped.into_iter().skip(skip));
            }
            if let Some(stream) = &turn.stream {
                let tail = stream.live_lines(w);
                if !tail.is_empty() && !turn.answer_started && !live.is_empty() {
                    live.push(Line::default());
                }
                live.extend(wrap_lines(&tail, w));
            }
            for t in &turn.tools {
                if !live.is_empty() {
                    live.push(Line::default());
                }
                live.extend(wrap_lines(&t.live_lines(spinner), w));
                let blocks = self.subagent_live_lines(Some(&t.call_id), &[], spinner);
                live.extend(wrap_lines(&blocks, w));
            }
        }
        // Subagents whose `task` call is not shown live (events out of order).
        let running_ids: Vec<&str> = self
            .running
            .current()
            .map(|t| t.tools.iter().map(|c| c.call_id.as_str()).collect())
            .unwrap_or_default();
        let orphans = self.subagent_live_lines(None, &running_ids, spinner);
        if !orphans.is_empty() {
            if !live.is_empty() {
                live.push(Line::default());
            }
            live.extend(wrap_lines(&orphans, w));
        }
        for cmd in self.running.shells() {
            if !live.is_empty() {
                live.push(Line::default());
            }
            live.push(Line::from(vec![
                Span::raw(format!("{spinner} $ ")),
                Span::styled(cmd.clone(), Style::default().add_modifier(Modifier::BOLD)),
            ]));
        }
        let working = match (self.running.current(), self.prompt.hint()) {
            (_, Some(hint)) => Some(Line::from(Span::styled(
                hint.to_string(),
                Style::default().add_modifier(Modifier::DIM),
            ))),
            (Some(turn), None) => {
                let label = if self.running.waiting_for_approval() {
                    "Waiting for approval"
                } else {
                    "Working"
                };
                let mut line = working_line(
                    self.spinner_frame(),
                    turn.started.elapsed().as_secs(),
                    label,
                );
                if self.subagents.live().next().is_some() {
                    line.spans.push(Span::styled(
                        " · Ctrl+O subagents",
                        Style::default().add_modifier(Modifier::DIM),
                    ));
                }
                let queued = self.running.queued_len();
                if queued > 0 {
                    line.spans.push(Span::styled(
                        format!(" · {queued} queued"),
                        Style::default().add_modifier(Modifier::DIM),
                    ));
                }
                Some(line)
            }
            (None, None) => None,
        };
        if live.is_empty() && self.transcript.written_any() {
            // One calm blank row between the transcript and the prompt.
            live.push(Line::default());
        }
        let composer = layout(self.prompt.composer(), width);
        let modal_rows = self
            .running
            .approval()
            .map_or(0, |m| m.desired_height(width));
        // An approval question comes first; a dialog replaces the prompt otherwise.
        let dialog_rows = match (self.dialogs.get(), modal_rows) {
            (Some(d), 0) => d.desired_height(width),
            _ => 0,
        };
        let covered = modal_rows > 0 || dialog_rows > 0;
        let popup_rows = if covered {
            0
        } else {
            self.prompt.popup().map_or(0, |(_, p)| p.height())
        };
        let composer_rows = if covered {
            0
        } else {
            composer.height(COMPOSER_ROWS)
        };
        // Fixed part: working line, popup/modal, composer, status line; the rest is live output.
        let mut fixed = u16::from(working.is_some()) + popup_rows + composer_rows + 1;
        let mut modal_rows = modal_rows;
        if fixed + modal_rows > max_height {
            modal_rows = max_height.saturating_sub(fixed).max(3.min(max_height));
        }
        let mut dialog_rows = dialog_rows;
        if fixed + dialog_rows > max_height {
            dialog_rows = max_height.saturating_sub(fixed).max(3.min(max_height));
        }
        fixed += modal_rows + dialog_rows;
        let live_room = max_height.saturating_sub(fixed) as usize;
        if live.len() > live_room {
            live.drain(..live.len() - live_room);
        }
        let height = (fixed as usize + live.len()).min(max_height as usize) as u16;
        FramePlan {
            live,
            working,
            composer,
            composer_rows,
            popup_rows,
            modal_rows,
            dialog_rows,
            height,
        }
    }

    /// Draws a planned frame; sets the terminal cursor where the user types.
    pub fn render(&mut self, plan: &FramePlan, frame: &mut Frame) {
        let area = frame.area();
        let buf = frame.buffer_mut();
        let mut y = area.y;
        let row = |h: u16, y: &mut u16| {
            let r = Rect::new(
                area.x,
                *y,
                area.width,
                h.min(area.bottom().saturating_sub(*y)),
            );
            *y += r.height;
            r
        };
        for line in &plan.live {
            let r = row(1, &mut y);
            buf.set_line(r.x, r.y, line, r.width);
        }
        if let Some(w) = &plan.working {
            let r = row(1, &mut y);
            buf.set_line(r.x, r.y, w, r.width);
        }
        let mut cursor: Option<Position> = None;
        if plan.modal_rows > 0 {
            let r = row(plan.modal_rows, &mut y);
            if let Some(m) = self.running.approval_mut() {
                cursor = m.render(r, buf);
            }
        }
        if plan.dialog_rows > 0 {
            let r = row(plan.dialog_rows, &mut y);
            if let Some(d) = self.dialogs.get_mut() {
                cursor = d.render(r, buf, std::time::Instant::now());
            }
        }
        if plan.popup_rows > 0 {
            let r = row(plan.popup_rows, &mut y);
            if let Some((_, p)) = self.prompt.popup() {
                ratatui::widgets::Widget::render(p, r, buf);
            }
        }
        if plan.composer_rows > 0 {
            let r = row(plan.composer_rows, &mut y);
            cursor = Some(plan.composer.render(r, buf));
        }
        let r = Rect::new(area.x, area.bottom().saturating_sub(1), area.width, 1);
        let status = self.status.line(area.width);
        buf.set_line(r.x, r.y, &status, r.width);
        if let Some(c) = cursor {
            frame.set_cursor_position(c);
        }
    }
}
