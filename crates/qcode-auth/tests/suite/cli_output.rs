//! The `qcode auth` back ends: what they print (never a secret) and what they leave on disk.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qcode_auth::{
    ApiKeyLogin, ApiKeyState, AuthPaths, BrowserLaunch, Console, LogoutScope, QrDisplay,
    QwenLoginOptions, QwenLoginState, Secret, login_api_key, login_qwen_oauth, logout, status,
};
use qcode_protocol::AuthKind;
use qcode_test_support::oauth_server::OAuthServerOptions;
use tokio_util::sync::CancellationToken;

use super::common::{cfg, fast_opts, http, server};

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn paths(tmp: &tempfile::TempDir) -> AuthPaths {
    AuthPaths {
        qwen_dir: tmp.path().join(".qwen"),
        qcode_home: tmp.path().join(".qcode"),
    }
}

#[tokio::test]
async fn qwen_login_prints_code_url_qr_and_no_secret() {
    let Some(server) = server(OAuthServerOptions {
        resource_url: Some("http://127.0.0.1:9".into()),
        ..fast_opts()
    }) else {
        return;
    };
    let server = Arc::new(server);
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let (mut out, mut err) = (SharedBuf::default(), SharedBuf::default());
    // Plays the user: reads the code from the printed output and approves it.
    let watcher = {
        let err = err.clone();
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            for _ in 0..500 {
                if let Some(code) = err
                    .text()
                    .lines()
                    .find_map(|l| l.strip_prefix("Code: ").map(str::to_string))
                {
                    std::thread::sleep(Duration::from_millis(1200));
                    server.approve(&code).unwrap();
                    return code;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("no code printed");
        })
    };
    let opts = QwenLoginOptions {
        oauth: cfg(&server),
        browser: BrowserLaunch::Never,
        qr: QrDisplay::Show,
    };
    let summary = login_qwen_oauth(
        &http(),
        &paths,
        &opts,
        &CancellationToken::new(),
        &mut Console {
            out: &mut out,
            err: &mut err,
        },
    )
    .await
    .unwrap();
    let code = watcher.join().unwrap();
    assert_eq!(summary.api_base_url, "http://127.0.0.1:9/v1");
    let creds = paths.qwen_store().load().unwrap().unwrap();
    assert_eq!(summary.expiry_date_ms, creds.expiry_date);

    let (out, err) = (out.text(), err.text());
    assert_eq!(
        out,
        format!(
            "Logged in with Qwen OAuth (API http://127.0.0.1:9/v1, model coder-model). Credentials saved to {}.\n",
            paths.qwen_store().path().display()
        )
    );
    assert!(
        err.starts_with("To log in with Qwen, open this page and approve the request:\n  http://"),
        "{err}"
    );
    assert!(
        err.contains(&format!("/device?user_code={code}\n")),
        "{err}"
    );
    assert!(err.contains("Or scan this with your phone:\n  ██"), "{err}");
    assert!(
        err.contains("Waiting for approval (10:00 left; Ctrl-C to cancel)…"),
        "{err}"
    );
    assert!(err.contains("  still waiting… 9:5"), "{err}");
    let mut secrets = vec![creds.access_token.expose(), creds.refresh_token.expose()];
    if let Some(id) = &creds.id_token {
        secrets.push(id.expose());
    }
    for secret in secrets {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "secret printed"
        );
    }

    let st = status(&paths);
    assert_eq!(st.active, Some(AuthKind::QwenOauth));
    assert!(
        matches!(&st.qwen, QwenLoginState::LoggedIn { api_base_url, model, .. }
        if api_base_url == "http://127.0.0.1:9/v1" && *model == "coder-model")
    );
    let shown = st.to_string();
    assert!(shown.contains("Qwen OAuth:    logged in; API http://127.0.0.1:9/v1, model coder-model, access token valid for"), "{shown}");
    assert!(
        !shown.contains(creds.access_token.expose())
            && !shown.contains(creds.refresh_token.expose())
    );
    assert!(!format!("{st:?}").contains(creds.access_token.expose()));
}

#[tokio::test]
async fn api_key_login_status_logout_never_show_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let key = "sk-test-0123456789abcdef";
    let (mut out, mut err) = (SharedBuf::default(), SharedBuf::default());
    login_api_key(
        &paths,
        &ApiKeyLogin {
            base_url: "https://openrouter.ai/api/v1".into(),
            model: Some("qwen/qwen3-coder".into()),
            api_key: Secret::new(key),
        },
        &mut Console {
            out: &mut out,
            err: &mut err,
        },
    )
    .await
    .unwrap();
    let key_path = paths.api_key_store().path();
    assert_eq!(
        out.text(),
        format!(
            "Saved the API key for https://openrouter.ai/api/v1, model qwen/qwen3-coder to {}.\n",
            key_path.display()
        )
    );
    assert_eq!(err.text(), "");
    assert!(std::fs::read_to_string(&key_path).unwrap().contains(key));

    let st = status(&paths);
    assert_eq!(st.active, Some(AuthKind::Openai));
    assert_eq!(st.qwen, QwenLoginState::NotLoggedIn);
    assert_eq!(
        st.api_key,
        ApiKeyState::Saved {
            base_url: "https://openrouter.ai/api/v1".into(),
            model: Some("qwen/qwen3-coder".into())
        }
    );
    let shown = st.to_string();
    assert_eq!(
        shown,
        format!(
            "Active method: openai\nQwen OAuth:    not logged in\n               ({})\nAPI key:       saved for https://openrouter.ai/api/v1, model qwen/qwen3-coder\n               ({})",
            paths.qwen_store().path().display(),
            key_path.display()
        )
    );
    assert!(!format!("{st:?}").contains(key));

    let (mut out, mut err) = (SharedBuf::default(), SharedBuf::default());
    logout(
        &paths,
        LogoutScope::All,
        &CancellationToken::new(),
        &mut Console {
            out: &mut out,
            err: &mut err,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        out.text(),
        format!(
            "No Qwen OAuth login to remove.\nRemoved the saved API key ({}).\n",
            key_path.display()
        )
    );
    assert!(!key_path.exists());
    assert!(!out.text().contains(key));
}

#[tokio::test]
async fn bad_api_key_input_is_refused_without_echo() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = paths(&tmp);
    let (mut out, mut err) = (SharedBuf::default(), SharedBuf::default());
    let e = login_api_key(
        &paths,
        &ApiKeyLogin {
            base_url: "https://api.deepseek.com/v1".into(),
            model: None,
            api_key: Secret::new("sk-with space"),
        },
        &mut Console {
            out: &mut out,
            err: &mut err,
        },
    )
    .await
    .unwrap_err();
    assert!(!e.to_string().contains("sk-with"), "{e}");
    assert!(!format!("{e:?}").contains("sk-with"), "{e:?}");
    assert!(!paths.api_key_store().path().exists());
    assert_eq!(out.text(), "");
}
