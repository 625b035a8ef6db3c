//! `qcode auth …`: sign in with Qwen OAuth, save an API key, show the status, log out.
//! The work (and its text) is `qcode-auth`'s; this maps arguments, prompts and exit codes, and
//! records the chosen method in the user settings (`security.auth.selectedType`).

use std::io::{BufRead, IsTerminal, Write};

use qcode_auth::{
    ApiKeyLogin, BrowserLaunch, Console, LogoutScope, QrDisplay, QwenLoginOptions, Secret,
    auth_paths, oauth_config,
};
use qcode_protocol::{AuthKind, ErrorKind};
use tokio_util::sync::CancellationToken;

use crate::cli::{AuthAction, AuthArgs, Cli};
use crate::exit::Failure;

pub async fn run(cli: &Cli, args: &AuthArgs) -> i32 {
    match run_inner(cli, args).await {
        Ok(()) => 0,
        Err(f) => f.report(),
    }
}

fn auth_failure(e: qcode_auth::AuthError) -> Failure {
    Failure::new(e.kind(), e.to_string(), None)
}

async fn run_inner(cli: &Cli, args: &AuthArgs) -> Result<(), Failure> {
    let (snapshot, _env) = crate::session::load_config(cli)?;
    let paths = auth_paths(&snapshot);
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let mut console = Console {
        out: &mut out,
        err: &mut err,
    };
    match &args.action {
        AuthAction::QwenOauth { no_browser } => {
            let http = qcode_auth::http_client().map_err(auth_failure)?;
            let headless = !std::io::stderr().is_terminal();
            let opts = QwenLoginOptions {
                oauth: oauth_config(&snapshot),
                browser: if *no_browser || headless {
                    BrowserLaunch::Never
                } else {
                    BrowserLaunch::Auto
                },
                qr: if headless {
                    QrDisplay::Hide
                } else {
                    QrDisplay::Show
                },
            };
            let cancel = CancellationToken::new();
            let on_ctrl_c = {
                let cancel = cancel.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        cancel.cancel();
                    }
                })
            };
            let result =
                qcode_auth::login_qwen_oauth(&http, &paths, &opts, &cancel, &mut console).await;
            on_ctrl_c.abort();
            if cancel.is_cancelled() {
                return Err(Failure::new(
                    ErrorKind::Interrupted,
                    "sign-in cancelled",
                    None,
                ));
            }
            result.map_err(Failure::from)?;
            select_method(&snapshot, AuthKind::QwenOauth)
        }
        AuthAction::ApiKey {
            base_url,
            model,
            key,
        } => {
            let base_url = match base_url {
                Some(b) => resolve_base_url(b),
                None => prompt_line(
                    "Base URL or preset (openai, openrouter, deepseek, dashscope, ollama, …): ",
                )?
                .map(|b| resolve_base_url(&b))
                .ok_or_else(|| {
                    Failure::new(
                        ErrorKind::Input,
                        "no base URL given",
                        Some("pass --base-url".into()),
                    )
                })?,
            };
            let model = match model {
                Some(m) => Some(m.clone()),
                None => prompt_line("Model (empty to decide later): ")?,
            };
            let api_key = match key {
                Some(k) => k.clone(),
                None => read_key()?,
            };
            // Local servers (and presets marked keyless) need no key.
            let keyless = qcode_auth::is_loopback_url(&base_url)
                || qcode_auth::preset_for_base_url(&base_url).is_some_and(|p| !p.needs_key);
            if api_key.trim().is_empty() && !keyless {
                return Err(Failure::new(
                    ErrorKind::Input,
                    "the API key is empty",
                    Some("pipe the key on stdin or type it at the prompt".into()),
                ));
            }
            let login = ApiKeyLogin {
                base_url,
                model,
                api_key: Secret::new(api_key.trim()),
            };
            qcode_auth::login_api_key(&paths, &login, &mut console)
                .await
                .map_err(Failure::from)?;
            select_method(&snapshot, AuthKind::Openai)
        }
        AuthAction::Status => {
            let mut status = qcode_auth::status(&paths);
            if let Some(explicit) = &snapshot.auth_type {
                status.active = Some(explicit.value);
            } else if snapshot.openai_api_key.is_some() {
                status.active = Some(AuthKind::Openai);
            }
            let _ = writeln!(console.out, "{status}");
            if snapshot.openai_api_key.is_some() {
                let _ = writeln!(
                    console.out,
                    "An API key is also set by {} (base URL {}).",
                    snapshot
                        .openai_api_key
                        .as_ref()
                        .map(|k| k.source.to_string())
                        .unwrap_or_default(),
                    snapshot.openai_base_url.value
                );
            }
            Ok(())
        }
        AuthAction::Logout {
            all,
            qwen_oauth,
            api_key,
        } => {
            let scope = if *all {
                LogoutScope::All
            } else if *qwen_oauth {
                LogoutScope::QwenOauth
            } else if *api_key {
                LogoutScope::ApiKey
            } else {
                match snapshot
                    .auth_type
                    .as_ref()
                    .map(|a| a.value)
                    .or(qcode_auth::status(&paths).active)
                {
                    Some(AuthKind::QwenOauth) => LogoutScope::QwenOauth,
                    Some(AuthKind::Openai) => LogoutScope::ApiKey,
                    None => LogoutScope::All,
                }
            };
            qcode_auth::logout(&paths, scope, &CancellationToken::new(), &mut console)
                .await
                .map_err(auth_failure)?;
            Ok(())
        }
    }
}

/// A preset id (`openrouter`) becomes its base URL; anything else is taken as a URL.
fn resolve_base_url(input: &str) -> String {
    let input = input.trim();
    qcode_auth::preset(input)
        .map(|p| p.base_url.to_string())
        .unwrap_or_else(|| input.to_string())
}

fn select_method(snapshot: &qcode_config::ConfigSnapshot, kind: AuthKind) -> Result<(), Failure> {
    qcode_config::SettingsFile::user(&snapshot.paths)
        .set_selected_auth(kind)
        .map_err(Failure::config)
}

fn prompt_line(prompt: &str) -> Result<Option<String>, Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(ErrorKind::Input, format!("cannot read input: {e}"), None))?;
    let line = line.trim().to_string();
    Ok((!line.is_empty()).then_some(line))
}

/// The key from a terminal prompt without echo, or from piped stdin.
fn read_key() -> Result<String, Failure> {
    let read_err = |e: std::io::Error| {
        Failure::new(
            ErrorKind::Input,
            format!("cannot read the API key: {e}"),
            None,
        )
    };
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("API key (input hidden): ").map_err(read_err)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(read_err)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
