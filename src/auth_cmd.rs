//! `qcode auth …`: sign in with Qwen OAuth, save an API key, show the status, log out.
//! The work (and its text) is `qcode-auth`'s; this maps arguments, prompts and exit codes, and
//! records the chosen method in the user settings (`security.auth.selectedType`).

use std::io::{BufRead, IsTerminal, Write};

use qcode_auth::{
    ApiKeyLogin, Console, LogoutScope, QwenLoginOptions, Secret, auth_paths, oauth_config,
    resolve_base_url,
};
use qcode_protocol::{AuthKind, ErrorKind, Problem};
use tokio_util::sync::CancellationToken;

use crate::cli::{AuthAction, AuthArgs, Cli};
use crate::exit::report;

pub async fn run(cli: &Cli, args: &AuthArgs) -> i32 {
    match run_inner(cli, args).await {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}

async fn run_inner(cli: &Cli, args: &AuthArgs) -> Result<(), Problem> {
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
            let http = qcode_auth::http_client().map_err(Problem::from)?;
            let opts = QwenLoginOptions::for_command_line(
                oauth_config(&snapshot),
                *no_browser,
                std::io::stderr().is_terminal(),
            );
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
                return Err(Problem::new(ErrorKind::Interrupted, "sign-in cancelled"));
            }
            result?;
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
                    Problem::new(ErrorKind::Input, "no base URL given").with_hint("pass --base-url")
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
                return Err(Problem::new(ErrorKind::Input, "the API key is empty")
                    .with_hint("pipe the key on stdin or type it at the prompt"));
            }
            let login = ApiKeyLogin {
                base_url,
                model,
                api_key: Secret::new(api_key.trim()),
            };
            qcode_auth::login_api_key(&paths, &login, &mut console).await?;
            select_method(&snapshot, AuthKind::Openai)
        }
        AuthAction::Status => {
            let _ = write!(console.out, "{}", qcode_auth::status_report(&snapshot));
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
                qcode_auth::default_logout_scope(&snapshot)
            };
            Ok(qcode_auth::logout(&paths, scope, &CancellationToken::new(), &mut console).await?)
        }
    }
}

fn select_method(snapshot: &qcode_config::ConfigSnapshot, kind: AuthKind) -> Result<(), Problem> {
    Ok(qcode_config::SettingsFile::user(&snapshot.paths).set_selected_auth(kind)?)
}

fn prompt_line(prompt: &str) -> Result<Option<String>, Problem> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Problem::new(ErrorKind::Input, format!("cannot read input: {e}")))?;
    let line = line.trim().to_string();
    Ok((!line.is_empty()).then_some(line))
}

/// The key from a terminal prompt without echo, or from piped stdin.
fn read_key() -> Result<String, Problem> {
    let read_err =
        |e: std::io::Error| Problem::new(ErrorKind::Input, format!("cannot read the API key: {e}"));
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
