//! Snapshot tests of every dialog, rendered into a `Buffer` at fixed sizes.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio_util::sync::CancellationToken;

use super::*;
use qcode_protocol::{LoginEvent, ProviderPreset};

use crate::services::PrivacyStatus;
use crate::testutil::buffer_text;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

fn draw(d: &mut Dialog, w: u16, h: u16, now: Instant) -> String {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    d.render(buf.area, &mut buf, now);
    buffer_text(&buf)
}

pub(crate) fn presets() -> Vec<ProviderPreset> {
    vec![
        ProviderPreset {
            id: "openrouter",
            label: "OpenRouter",
            base_url: "https://openrouter.ai/api/v1",
            default_model: "qwen/qwen3-coder",
            key_hint: "OPENROUTER_API_KEY",
            needs_key: true,
        },
        ProviderPreset {
            id: "ollama",
            label: "Ollama (local)",
            base_url: "http://localhost:11434/v1",
            default_model: "qwen2.5-coder",
            key_hint: "no key needed",
            needs_key: false,
        },
    ]
}

#[test]
fn auth_chooser() {
    let mut d = Dialog::AuthChooser(AuthChooser::new(Some("You are not signed in yet.".into())));
    assert_eq!(d.desired_height(80), 5);
    let first = draw(&mut d, 80, 5, Instant::now());
    insta::assert_snapshot!(first);
    assert_eq!(d.handle_key(key(KeyCode::Down)), DialogAction::None);
    assert_eq!(
        d.handle_key(key(KeyCode::Enter)),
        DialogAction::ChooseApiKey
    );
    assert_eq!(
        d.handle_key(key(KeyCode::Char('1'))),
        DialogAction::ChooseQwen
    );
    assert_eq!(d.handle_key(key(KeyCode::Esc)), DialogAction::Close);
}

fn device_code_view(now: Instant) -> Dialog {
    let mut v = LoginView::new(CancellationToken::new());
    v.apply(
        LoginEvent::DeviceCode {
            verification_url: "https://chat.qwen.ai/authorize?user_code=ABCD-1234".into(),
            user_code: "ABCD-1234".into(),
            qr_lines: vec![
                "█▀▀▀▀▀█ ▄ █▀▀▀▀▀█".into(),
                "█ ███ █ ▀ █ ███ █".into(),
                "█▄▄▄▄▄█ █ █▄▄▄▄▄█".into(),
            ],
            expires_in: Duration::from_secs(600),
            browser_opened: false,
        },
        now,
    );
    Dialog::QwenLogin(v)
}

#[test]
fn device_code_view_shows_code_url_qr_and_countdown() {
    let now = Instant::now();
    let mut d = device_code_view(now);
    let h = d.desired_height(70);
    assert_eq!(h, 10);
    insta::assert_snapshot!(draw(&mut d, 70, h, now));
    // 61 s later the countdown moved; a too-small pane drops the QR code, not the code.
    let later = draw(&mut d, 70, 7, now + Duration::from_secs(61));
    assert!(
        later.contains("Waiting for approval · 8:59 left"),
        "{later}"
    );
    assert!(later.contains("Code: ABCD-1234"), "{later}");
    assert!(later.contains("make the terminal larger"), "{later}");
    assert!(!later.contains("█▀▀▀▀▀█"), "{later}");
    assert_eq!(d.handle_key(key(KeyCode::Esc)), DialogAction::CancelLogin);
}

#[test]
fn login_failure_is_shown_exactly() {
    let mut v = LoginView::new(CancellationToken::new());
    v.fail("the sign-in was denied in the browser; run /auth to try again".into());
    let mut d = Dialog::QwenLogin(v);
    assert_eq!(d.desired_height(80), 4);
    let text = draw(&mut d, 80, 4, Instant::now());
    assert_eq!(
        text,
        "Sign in with Qwen\n  ✗ Sign-in failed: the sign-in was denied in the browser; run /auth to try\n  again\nEnter choose again · Esc close"
    );
    assert!(!d.animating());
    assert_eq!(
        d.handle_key(key(KeyCode::Enter)),
        DialogAction::BackToChooser
    );
}

#[test]
fn key_form_masks_the_key() {
    let mut form = KeyForm::new(presets());
    for _ in 0..3 {
        form.handle_key(key(KeyCode::Tab));
    }
    assert_eq!(form.focus, key_form::Field::Key);
    let secret = "sk-or-v1-SECRET0123456789";
    for c in secret.chars() {
        form.handle_key(key(KeyCode::Char(c)));
    }
    let mut d = Dialog::ApiKey(form);
    let text = draw(&mut d, 80, 7, Instant::now());
    assert!(!text.contains("SECRET"), "{text}");
    assert!(!text.contains("sk-or"), "{text}");
    assert!(
        !format!("{d:?}").contains("SECRET"),
        "Debug must redact the key"
    );
    insta::assert_snapshot!(text);
    let action = d.handle_key(key(KeyCode::Enter));
    assert_eq!(
        action,
        DialogAction::SaveKey(crate::services::ApiKeyInput {
            base_url: "https://openrouter.ai/api/v1".into(),
            model: "qwen/qwen3-coder".into(),
            api_key: secret.into(),
        })
    );
    assert!(!format!("{action:?}").contains("SECRET"));
    let checking = draw(&mut d, 80, 7, Instant::now());
    assert!(
        checking.contains("Checking the key with the provider…"),
        "{checking}"
    );
}

#[test]
fn key_form_presets_and_missing_key() {
    let mut form = KeyForm::new(presets());
    form.handle_key(key(KeyCode::Right));
    let mut d = Dialog::ApiKey(form);
    let text = draw(&mut d, 80, 7, Instant::now());
    assert!(
        text.contains("‹ Ollama (local) ›  key: no key needed"),
        "{text}"
    );
    assert!(text.contains("http://localhost:11434/v1"), "{text}");
    // Local servers need no key.
    assert!(matches!(
        d.handle_key(key(KeyCode::Enter)),
        DialogAction::SaveKey(ref i) if i.api_key.is_empty() && i.model == "qwen2.5-coder"
    ));
    let mut form = KeyForm::new(presets());
    assert_eq!(form.handle_key(key(KeyCode::Enter)), DialogAction::None);
    let mut d = Dialog::ApiKey(form);
    let text = draw(&mut d, 80, 7, Instant::now());
    assert!(text.contains("✗ enter the API key"), "{text}");
    // A long failure wraps instead of being cut.
    let mut form = KeyForm::new(presets());
    form.fail("the key check failed: the provider rejected the credentials (HTTP 401): Incorrect API key provided".into());
    let mut d = Dialog::ApiKey(form);
    assert_eq!(d.desired_height(60), 8);
    let text = draw(&mut d, 60, 8, Instant::now());
    assert!(text.contains("Incorrect API key provided"), "{text}");
    // Editing the URL by hand makes the provider custom.
    let mut form = KeyForm::new(presets());
    form.handle_key(key(KeyCode::Tab));
    form.handle_key(key(KeyCode::Backspace));
    let mut d = Dialog::ApiKey(form);
    let text = draw(&mut d, 80, 7, Instant::now());
    assert!(text.contains("‹ Custom ›"), "{text}");
    assert!(text.contains("https://openrouter.ai/api/v"), "{text}");
}

#[test]
fn model_picker_loading_list_and_error() {
    let mut picker = ModelPicker::new("qwen3-coder-plus");
    let mut d = Dialog::Model(picker);
    let loading = draw(&mut d, 60, 4, Instant::now());
    let Dialog::Model(p) = &mut d else {
        unreachable!()
    };
    p.loaded(Ok(vec![
        "qwen3-max".into(),
        "qwen3-coder-plus".into(),
        "qwen3-coder-flash".into(),
    ]));
    let h = d.desired_height(60);
    let list = draw(&mut d, 60, h, Instant::now());
    picker = ModelPicker::new("qwen3-coder-plus");
    picker.loaded(Err(qcode_protocol::Problem::new(
        qcode_protocol::ErrorKind::Auth,
        "GET http://127.0.0.1:9/v1/models failed: 401 invalid key",
    )));
    let mut e = Dialog::Model(picker);
    let h = e.desired_height(60);
    assert_eq!(h, 6);
    let error = draw(&mut e, 60, h, Instant::now());
    insta::assert_snapshot!(format!("{loading}\n---\n{list}\n---\n{error}"));
    // Filtering, then choosing.
    for c in "flash".chars() {
        d.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(
        d.handle_key(key(KeyCode::Enter)),
        DialogAction::PickModel("qwen3-coder-flash".into())
    );
    // On error, the typed name is used.
    for c in "my-model".chars() {
        e.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(
        e.handle_key(key(KeyCode::Enter)),
        DialogAction::PickModel("my-model".into())
    );
}

#[test]
fn privacy_view() {
    let mut v = PrivacyView::new();
    v.status = Some(PrivacyStatus {
        text: "qcode sends anonymous usage statistics.\n\nUsage statistics: on\nDestination: http://localhost:4318/v1/logs\nAudit log: /home/u/.qcode/telemetry-audit.jsonl (2 events)".into(),
        log: vec![
            r#"{"event":"qcode.session_start","run_mode":"interactive"}"#.into(),
            r#"{"event":"qcode.model_request","status":"success"}"#.into(),
        ],
    });
    let mut d = Dialog::Privacy(v);
    let h = d.desired_height(80);
    assert_eq!(h, 11);
    insta::assert_snapshot!(draw(&mut d, 80, h, Instant::now()));
    assert_eq!(
        d.handle_key(key(KeyCode::Char('f'))),
        DialogAction::SetUsageStatistics(crate::services::UsageStatistics::Off)
    );
    assert_eq!(
        d.handle_key(key(KeyCode::Char('o'))),
        DialogAction::SetUsageStatistics(crate::services::UsageStatistics::On)
    );
    assert_eq!(d.handle_key(key(KeyCode::Esc)), DialogAction::Close);
}
