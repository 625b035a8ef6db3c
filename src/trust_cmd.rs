//! `qcode trust [PATH] [--revoke | --list]`, and the one-time question an interactive session
//! asks in an untrusted folder whose files want more. The rules live in `qcode_config::trust`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use qcode_config::{ConfigSnapshot, FolderTrust, TrustRule, TrustedFolders};
use qcode_protocol::{ErrorKind, Problem};

use crate::cli::TrustArgs;

pub fn run(qcode_home: &Path, project_root: &Path, args: &TrustArgs) -> Result<(), Problem> {
    let config = |e: qcode_config::ConfigError| Problem::new(ErrorKind::Config, e.to_string());
    if args.list {
        let (rules, warnings) = TrustedFolders::load(qcode_home).map_err(config)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        if rules.rules.is_empty() {
            println!("No trusted folders ({}).", rules.file.display());
        }
        for (path, rule) in &rules.rules {
            println!("{}  {}", rule.as_str(), path.display());
        }
        return Ok(());
    }
    let folder = match &args.path {
        Some(p) => absolute(p)?,
        None => project_root.to_path_buf(),
    };
    if args.revoke {
        if TrustedFolders::remove(qcode_home, &folder).map_err(config)? {
            println!("{} is no longer trusted.", folder.display());
        } else {
            println!("{} had no trust rule of its own.", folder.display());
        }
        let (rules, _) = TrustedFolders::load(qcode_home).map_err(config)?;
        if let FolderTrust::Trusted { by_rule } = rules.decide(&folder) {
            println!(
                "It is still trusted through {}: run `qcode trust --revoke {}` to change that.",
                by_rule.display(),
                by_rule.display()
            );
        }
        return Ok(());
    }
    if !folder.is_dir() {
        return Err(Problem::new(
            ErrorKind::Input,
            format!("{} is not a folder", folder.display()),
        ));
    }
    TrustedFolders::set(qcode_home, &folder, TrustRule::TrustFolder).map_err(config)?;
    println!(
        "Trusted {} and its subfolders: their .qcode/settings.json and .env now take effect.",
        qcode_config::trust::normalize(&folder).display()
    );
    Ok(())
}

fn absolute(p: &Path) -> Result<PathBuf, Problem> {
    let cwd = std::env::current_dir().map_err(|e| {
        Problem::new(
            ErrorKind::Config,
            format!("cannot read the working directory: {e}"),
        )
    })?;
    Ok(qcode_config::trust::normalize(&cwd.join(p)))
}

/// What the interactive session does about an untrusted folder that wants more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Trusted now: load the configuration again.
    Trusted,
    /// Not trusted (now or before): go on without the project's extra settings.
    Declined,
}

/// Asks once (on the terminal, before the session starts) whether to trust the project whose
/// files want settings an untrusted folder may not have; "no" is remembered.
pub fn ask_once(snapshot: &ConfigSnapshot) -> Answer {
    let FolderTrust::Untrusted { refused: false } = snapshot.trust else {
        return Answer::Declined;
    };
    let wanted: Vec<_> = snapshot
        .ignored
        .iter()
        .filter(|i| i.source.scope() == qcode_config::Scope::Project)
        .collect();
    if wanted.is_empty() || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Answer::Declined;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "The folder {} is not trusted. Its files want to set:",
        snapshot.project_root.display()
    );
    for i in &wanted {
        let file = i
            .source
            .file()
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        match &i.value {
            Some(v) => {
                let _ = writeln!(err, "  {} = {v}   ({file})", i.name);
            }
            None => {
                let _ = writeln!(err, "  {}   ({file})", i.name);
            }
        }
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
        eprintln!("warning: could not remember the answer: {e}");
    }
    if yes {
        Answer::Trusted
    } else {
        eprintln!("Not trusted; `qcode trust` changes that later.");
        Answer::Declined
    }
}
