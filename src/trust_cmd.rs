//! `qcode trust [PATH] [--revoke | --list]` and the one-time question an interactive session
//! asks in an untrusted folder whose files want more. Rules and texts live in
//! `qcode_config::trust`; this is the terminal I/O.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use qcode_config::trust::{TrustAction, normalize};
use qcode_config::{ConfigSnapshot, TrustRule, TrustedFolders};
use qcode_protocol::Problem;

use crate::cli::TrustArgs;

pub fn run(qcode_home: &Path, project_root: &Path, args: &TrustArgs) -> Result<(), Problem> {
    let folder = match &args.path {
        Some(p) => normalize(&std::env::current_dir().unwrap_or_default().join(p)),
        None => project_root.to_path_buf(),
    };
    let action = match (args.list, args.revoke) {
        (true, _) => TrustAction::List,
        (false, true) => TrustAction::Revoke(folder),
        (false, false) => TrustAction::Trust(folder),
    };
    let (text, warnings) = qcode_config::trust::run_command(qcode_home, &action)?;
    for w in warnings {
        crate::exit::warn(format_args!("{w}"));
    }
    println!("{text}");
    Ok(())
}

/// What the interactive session does about an untrusted folder that wants more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Trusted now: load the configuration again.
    Trusted,
    /// Not trusted (now or before): go on without the project's extra settings.
    Declined,
}

/// Asks once on the terminal, before the session starts; "no" is remembered.
pub fn ask_once(snapshot: &ConfigSnapshot) -> Answer {
    let Some(lines) = qcode_config::trust::question(snapshot) else {
        return Answer::Declined;
    };
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Answer::Declined;
    }
    let mut err = std::io::stderr();
    for line in lines {
        let _ = writeln!(err, "{line}");
    }
    let _ = write!(
        err,
        "Trust this folder and let them take effect? Only say yes for code you trust. [y/N] "
    );
    let _ = err.flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let yes = matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes");
    let rule = if yes {
        TrustRule::TrustFolder
    } else {
        TrustRule::DoNotTrust
    };
    if let Err(e) = TrustedFolders::set(&snapshot.paths.qcode_home, &snapshot.project_root, rule) {
        crate::exit::warn(format_args!("could not remember the answer: {e}"));
    }
    if yes {
        Answer::Trusted
    } else {
        eprintln!("Not trusted; `qcode trust` changes that later.");
        Answer::Declined
    }
}
