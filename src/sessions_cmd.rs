//! `qcode sessions list | show | export | delete | rewind`: argument mapping and output over
//! `qcode-session` (the store, its formats and its lookups live there).

use qcode_protocol::Problem;
use qcode_session::{ExportFormat, Force, RewindReport, RewindScope};

use crate::cli::{Cli, ExportFormatArg, SessionsAction, SessionsArgs};
use crate::exit::report;

pub async fn run(cli: &Cli, args: &SessionsArgs) -> i32 {
    let result = match crate::session::load_config(cli) {
        Ok((snapshot, _)) => {
            let action = args.action.clone();
            tokio::task::spawn_blocking(move || run_blocking(&snapshot, &action))
                .await
                .unwrap_or_else(|e| Err(Problem::internal(format!("the command failed: {e}"))))
        }
        Err(p) => Err(p),
    };
    match result {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}

fn run_blocking(
    snapshot: &qcode_config::ConfigSnapshot,
    action: &SessionsAction,
) -> Result<(), Problem> {
    let project_dir = snapshot.paths.project_dir(&snapshot.project_root);
    match action {
        SessionsAction::List { all, json } => {
            let sessions = if *all {
                qcode_session::list_all(&snapshot.paths.qcode_home.join("projects"))?
            } else {
                qcode_session::list(&project_dir)?
            };
            if *json {
                let text = serde_json::to_string_pretty(&sessions)
                    .map_err(|e| Problem::internal(e.to_string()))?;
                println!("{text}");
            } else if sessions.is_empty() {
                println!("No recorded sessions.");
            } else {
                for s in &sessions {
                    println!(
                        "{}  {}  {:>3} turns  {}",
                        &s.id[..s.id.len().min(8)],
                        s.updated_at,
                        s.turns,
                        s.title
                    );
                }
            }
        }
        SessionsAction::Show { id } => {
            let path = qcode_session::find(&project_dir, id)?;
            print!("{}", qcode_session::show(&qcode_session::load(&path)?));
        }
        SessionsAction::Export { id, format, output } => {
            let path = qcode_session::find(&project_dir, id)?;
            let format = match format {
                ExportFormatArg::Markdown => ExportFormat::Markdown,
                ExportFormatArg::Json => ExportFormat::Json,
                ExportFormatArg::Jsonl => ExportFormat::Jsonl,
            };
            let text = qcode_session::export(&qcode_session::load(&path)?, format)?;
            match output {
                Some(file) => {
                    qcode_fs::write_atomic(file, text.as_bytes(), qcode_fs::Mode::KeepOr(0o600))
                        .map_err(|e| {
                            Problem::new(qcode_protocol::ErrorKind::Tool, e.to_string())
                        })?;
                    eprintln!("Exported to {}", file.display());
                }
                None => print!("{text}"),
            }
        }
        SessionsAction::Delete { id } => {
            let removed = qcode_session::delete(
                &project_dir,
                &snapshot.paths.qcode_home.join("file-history"),
                id,
            )?;
            println!("Deleted {}", removed.display());
        }
        SessionsAction::Rewind {
            id,
            turn,
            code_only,
            conversation_only,
            force,
        } => {
            let path = qcode_session::find(&project_dir, id)?;
            let scope = match (code_only, conversation_only) {
                (true, _) => RewindScope::CodeOnly,
                (false, true) => RewindScope::ConversationOnly,
                (false, false) => RewindScope::Both,
            };
            let force = if *force { Force::Yes } else { Force::No };
            let file_history = snapshot.paths.qcode_home.join("file-history");
            let report = qcode_session::rewind_session(&path, &file_history, *turn, scope, force)?;
            print!("{}", describe(&report, *turn, scope));
        }
    }
    Ok(())
}

/// What a rewind did, one line per file.
fn describe(report: &RewindReport, turn: u32, scope: RewindScope) -> String {
    let mut out = String::new();
    for file in &report.restored {
        out.push_str(&format!("restored {}\n", file.display()));
    }
    for file in &report.deleted {
        out.push_str(&format!("deleted {}\n", file.display()));
    }
    for notice in &report.not_restorable {
        out.push_str(&format!("not restored {notice}\n"));
    }
    let code = match scope {
        RewindScope::ConversationOnly => "files left as they are".to_string(),
        RewindScope::Both | RewindScope::CodeOnly => {
            match report.restored.len() + report.deleted.len() {
                0 => "no file to restore".to_string(),
                1 => "1 file restored".to_string(),
                n => format!("{n} files restored"),
            }
        }
    };
    let conversation = match scope {
        RewindScope::CodeOnly => "conversation left as it is".to_string(),
        RewindScope::Both | RewindScope::ConversationOnly => format!(
            "conversation cut back to before turn {turn} ({} records removed)",
            report.records_removed
        ),
    };
    out.push_str(&format!(
        "Rewound to before turn {turn}: {code}; {conversation}.\n"
    ));
    out
}
