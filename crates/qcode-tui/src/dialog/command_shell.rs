//! The question a custom command's `!{…}` commands ask before they run: the same approval
//! modal a shell call of the model shows (the command or commands, the directory; y / a / n),
//! asked for the command as a whole. Declining cancels the command and nothing is sent.

use crossterm::event::KeyEvent;
use qcode_protocol::{ApprovalDetails, ReviewDecision};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

use crate::approval::ApprovalModal;
use crate::services::CommandRequest;

#[derive(Debug)]
pub struct CommandShellApproval {
    /// What was typed, to expand again once allowed.
    pub request: CommandRequest,
    /// The commands asked about.
    pub commands: Vec<String>,
    modal: ApprovalModal,
}

impl CommandShellApproval {
    pub fn new(request: CommandRequest, commands: Vec<String>, directory: String) -> Self {
        let modal = ApprovalModal::new(
            "",
            "",
            &format!("/{}", request.name),
            ApprovalDetails::Shell {
                command: commands.join("\n"),
                directory,
            },
        );
        Self {
            request,
            commands,
            modal,
        }
    }

    /// The user's decision, once made.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<ReviewDecision> {
        self.modal.handle_key(key)
    }

    pub fn paste(&mut self, text: &str) {
        self.modal.paste(text);
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        self.modal.desired_height(width)
    }

    pub fn render(&mut self, area: Rect, buf: &mut Buffer) -> Option<Position> {
        self.modal.render(area, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::buffer_text;
    use crossterm::event::{KeyCode, KeyEventKind, KeyEventState, KeyModifiers};

    #[test]
    fn shows_every_command_and_decides_like_a_shell_call() {
        let request = CommandRequest {
            name: "status".into(),
            args: String::new(),
            mode: qcode_protocol::ApprovalMode::Default,
            approved: Vec::new(),
            for_session: false,
        };
        let mut d = CommandShellApproval::new(
            request,
            vec!["git status --short".into(), "git log -n 3".into()],
            "/work/p".into(),
        );
        let h = d.desired_height(70);
        let mut buf = Buffer::empty(Rect::new(0, 0, 70, h));
        d.render(buf.area, &mut buf);
        insta::assert_snapshot!(buffer_text(&buf));
        let key = |c| KeyEvent {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        };
        assert_eq!(
            d.handle_key(key('a')),
            Some(ReviewDecision::AllowForSession)
        );
        assert_eq!(
            d.handle_key(key('n')),
            Some(ReviewDecision::Deny { message: None })
        );
    }
}
