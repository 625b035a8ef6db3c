//! [`Dialogs`]: what covers the prompt or the screen — the open dialog (with the id its
//! service replies must carry), the full-screen transcript pager — and the answers the app is
//! waiting for from the engine after a dialog finished (an auth switch, a new system prompt).

use qcode_protocol::AuthKind;

use crate::dialog::Dialog;
use crate::pager::Pager;

/// An `Op::SwitchAuth` sent after a sign-in; `model` is the one chosen in the key form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingSwitch {
    pub auth: AuthKind,
    pub model: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Dialogs {
    /// The open dialog and its id (replies carry the id they were started for; 0 is none).
    open: Option<(u64, Dialog)>,
    next_id: u64,
    pager: Option<Pager>,
    /// An `Op::SwitchAuth` waiting for the engine's answer.
    pending_switch: Option<PendingSwitch>,
    /// Context files loaded by the last /memory refresh, reported when the engine confirms.
    pending_refresh: Option<usize>,
}

impl Default for Dialogs {
    fn default() -> Self {
        Self {
            open: None,
            next_id: 1,
            pager: None,
            pending_switch: None,
            pending_refresh: None,
        }
    }
}

impl Dialogs {
    /// Opens `dialog` in place of the one open (which is closed first); returns its id.
    pub fn open(&mut self, dialog: Dialog) -> u64 {
        self.close();
        let id = self.next_id;
        self.next_id += 1;
        self.open = Some((id, dialog));
        id
    }

    /// Closes the dialog, cancelling a sign-in that is still running; false if none was open.
    pub fn close(&mut self) -> bool {
        match self.open.take() {
            Some((_, Dialog::QwenLogin(view))) => {
                view.cancel.cancel();
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The open dialog's id, 0 when none is open.
    pub fn current_id(&self) -> u64 {
        self.open.as_ref().map_or(0, |(id, _)| *id)
    }

    /// Whether a reply for dialog `id` still has its dialog.
    pub fn is_current(&self, id: u64) -> bool {
        self.open.as_ref().is_some_and(|(d, _)| *d == id)
    }

    pub fn get(&self) -> Option<&Dialog> {
        self.open.as_ref().map(|(_, d)| d)
    }

    pub fn get_mut(&mut self) -> Option<&mut Dialog> {
        self.open.as_mut().map(|(_, d)| d)
    }

    pub fn animating(&self) -> bool {
        self.get().is_some_and(Dialog::animating)
    }

    // ---- the pager -----------------------------------------------------------------------

    pub fn open_pager(&mut self, pager: Pager) {
        self.pager = Some(pager);
    }

    pub fn close_pager(&mut self) {
        self.pager = None;
    }

    pub fn pager_is_open(&self) -> bool {
        self.pager.is_some()
    }

    pub fn pager_mut(&mut self) -> Option<&mut Pager> {
        self.pager.as_mut()
    }

    // ---- answers awaited from the engine -------------------------------------------------

    pub fn expect_switch(&mut self, switch: PendingSwitch) {
        self.pending_switch = Some(switch);
    }

    pub fn take_switch(&mut self) -> Option<PendingSwitch> {
        self.pending_switch.take()
    }

    pub fn expect_refresh(&mut self, files: usize) {
        self.pending_refresh = Some(files);
    }

    pub fn take_refresh(&mut self) -> Option<usize> {
        self.pending_refresh.take()
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::dialog::LoginView;

    #[test]
    fn each_dialog_gets_a_new_id_and_replies_for_a_closed_one_are_stale() {
        let mut d = Dialogs::default();
        assert_eq!(d.current_id(), 0);
        let first = d.open(Dialog::InitConfirm);
        let second = d.open(Dialog::InitConfirm);
        assert_ne!(first, second);
        assert!(!d.is_current(first));
        assert!(d.is_current(second));
        assert!(d.close());
        assert!(!d.close(), "nothing left to close");
        assert!(!d.is_current(second));
    }

    #[test]
    fn replacing_or_closing_a_sign_in_cancels_it() {
        let mut d = Dialogs::default();
        let cancel = CancellationToken::new();
        d.open(Dialog::QwenLogin(LoginView::new(cancel.clone())));
        assert!(d.animating());
        d.open(Dialog::InitConfirm);
        assert!(cancel.is_cancelled());
        assert!(!d.animating());
    }

    #[test]
    fn awaited_answers_are_taken_once() {
        let mut d = Dialogs::default();
        d.expect_switch(PendingSwitch {
            auth: AuthKind::Openai,
            model: None,
        });
        d.expect_refresh(2);
        assert_eq!(d.take_switch().map(|s| s.auth), Some(AuthKind::Openai));
        assert_eq!(d.take_switch(), None);
        assert_eq!(d.take_refresh(), Some(2));
        assert_eq!(d.take_refresh(), None);
    }

    #[test]
    fn the_pager_opens_and_closes() {
        let mut d = Dialogs::default();
        d.open_pager(Pager::new(Vec::new()));
        assert!(d.pager_is_open());
        assert!(d.pager_mut().is_some());
        d.close_pager();
        assert!(!d.pager_is_open());
    }
}
