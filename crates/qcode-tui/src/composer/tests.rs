use super::*;
use crate::testutil::buffer_text;
use crossterm::event::{KeyEventKind, KeyEventState};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

fn typed(c: &mut Composer, s: &str) {
    for ch in s.chars() {
        c.handle_key(key(KeyCode::Char(ch), KeyModifiers::NONE));
    }
}

fn ctrl(c: &mut Composer, ch: char) -> ComposerResult {
    c.handle_key(key(KeyCode::Char(ch), KeyModifiers::CONTROL))
}

#[test]
fn enter_submits_and_newline_keys_insert() {
    let mut c = Composer::new(None);
    typed(&mut c, "hello");
    c.handle_key(key(KeyCode::Enter, KeyModifiers::SHIFT));
    typed(&mut c, "world");
    ctrl(&mut c, 'j');
    typed(&mut c, "!");
    assert_eq!(c.text(), "hello\nworld\n!");
    let r = c.handle_key(key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(r, ComposerResult::Submitted("hello\nworld\n!".into()));
    assert!(c.is_empty());
    assert_eq!(
        c.handle_key(key(KeyCode::Enter, KeyModifiers::NONE)),
        ComposerResult::Ignored
    );
}

#[test]
fn readline_editing_keys() {
    let mut c = Composer::new(None);
    typed(&mut c, "foo bar_baz qux");
    ctrl(&mut c, 'w');
    assert_eq!(c.text(), "foo bar_baz ");
    ctrl(&mut c, 'a');
    assert_eq!(c.cursor(), 0);
    c.handle_key(key(KeyCode::Right, KeyModifiers::ALT));
    assert_eq!(c.cursor(), 3);
    c.handle_key(key(KeyCode::Right, KeyModifiers::CONTROL));
    assert_eq!(c.cursor(), 11);
    ctrl(&mut c, 'k');
    assert_eq!(c.text(), "foo bar_baz");
    c.handle_key(key(KeyCode::Left, KeyModifiers::CONTROL));
    assert_eq!(c.cursor(), 4);
    ctrl(&mut c, 'u');
    assert_eq!(c.text(), "bar_baz");
    ctrl(&mut c, 'y');
    assert_eq!(c.text(), "foo bar_baz");
    ctrl(&mut c, 'e');
    c.handle_key(key(KeyCode::Home, KeyModifiers::NONE));
    assert_eq!(c.cursor(), 0);
    c.handle_key(key(KeyCode::End, KeyModifiers::NONE));
    assert_eq!(c.cursor(), c.text().len());
}

#[test]
fn backspace_removes_whole_graphemes() {
    let mut c = Composer::new(None);
    typed(&mut c, "a你👍🏽");
    c.handle_key(key(KeyCode::Backspace, KeyModifiers::NONE));
    assert_eq!(c.text(), "a你");
    c.handle_key(key(KeyCode::Left, KeyModifiers::NONE));
    c.handle_key(key(KeyCode::Delete, KeyModifiers::NONE));
    assert_eq!(c.text(), "a");
}

#[test]
fn large_paste_becomes_placeholder_but_is_sent_in_full() {
    let mut c = Composer::new(None);
    typed(&mut c, "see ");
    let big: String = (1..=120).map(|i| format!("line {i}\r\n")).collect();
    c.paste(&big);
    assert_eq!(c.text(), "see [pasted 120 lines]");
    let small = "one\ntwo";
    c.paste(small);
    assert!(c.text().ends_with("]one\ntwo"));
    let ComposerResult::Submitted(sent) = c.handle_key(key(KeyCode::Enter, KeyModifiers::NONE))
    else {
        panic!("not submitted");
    };
    assert!(sent.starts_with("see line 1\nline 2\n"));
    assert!(sent.ends_with("line 120\none\ntwo"));
}

#[test]
fn backspace_deletes_placeholder_as_a_unit() {
    let mut c = Composer::new(None);
    c.paste(&"x\n".repeat(10));
    assert_eq!(c.text(), "[pasted 10 lines]");
    c.handle_key(key(KeyCode::Backspace, KeyModifiers::NONE));
    assert_eq!(c.text(), "");
    assert!(c.placeholder_labels().is_empty());
}

#[test]
fn history_up_down_and_multiline_navigation() {
    let mut c = Composer::new(None);
    typed(&mut c, "first");
    c.handle_key(key(KeyCode::Enter, KeyModifiers::NONE));
    typed(&mut c, "second");
    c.handle_key(key(KeyCode::Enter, KeyModifiers::NONE));
    typed(&mut c, "dra");
    c.handle_key(key(KeyCode::Up, KeyModifiers::NONE));
    assert_eq!(c.text(), "second");
    c.handle_key(key(KeyCode::Up, KeyModifiers::NONE));
    assert_eq!(c.text(), "first");
    c.handle_key(key(KeyCode::Down, KeyModifiers::NONE));
    c.handle_key(key(KeyCode::Down, KeyModifiers::NONE));
    assert_eq!(c.text(), "dra");
    c.clear();
    typed(&mut c, "ab\ncd");
    c.handle_key(key(KeyCode::Up, KeyModifiers::NONE));
    assert_eq!(
        c.text(),
        "ab\ncd",
        "↑ inside multi-line text moves the cursor"
    );
    assert_eq!(c.cursor(), 2);
}

fn render(c: &Composer, width: u16) -> (String, Position) {
    let l = layout(c, width);
    let h = l.height(10);
    let mut buf = Buffer::empty(Rect::new(0, 0, width, h));
    let pos = l.render(buf.area, &mut buf);
    (buffer_text(&buf), pos)
}

use ratatui::layout::Position;

#[test]
fn cjk_layout_and_cursor() {
    let mut c = Composer::new(None);
    typed(&mut c, "请修复这个错误 then run 测试");
    let (text, pos) = render(&c, 20);
    insta::assert_snapshot!(text);
    // "› " + the last row "n 测试" style content: cursor after the last wide char.
    let l = layout(&c, 20);
    let last = l.rows.last().unwrap();
    assert_eq!(
        pos,
        Position::new(
            crate::wrap::line_width(last) as u16,
            l.rows.len() as u16 - 1
        )
    );
    for _ in 0..2 {
        c.handle_key(key(KeyCode::Left, KeyModifiers::NONE));
    }
    let (_, pos2) = render(&c, 20);
    assert_eq!(pos2.x, pos.x - 4, "two wide characters = four columns");
}

#[test]
fn empty_composer_shows_hint_and_placeholder_is_colored() {
    let c = Composer::new(None);
    let (text, pos) = render(&c, 60);
    insta::assert_snapshot!(text);
    assert_eq!(pos, Position::new(2, 0));
    let mut c = Composer::new(None);
    c.paste(&"x\n".repeat(10));
    let l = layout(&c, 40);
    assert_eq!(l.rows[0].spans[1].content, "[pasted 10 lines]");
    assert_eq!(
        l.rows[0].spans[1].style.fg,
        Some(ratatui::style::Color::Magenta)
    );
}
