//! `qcode import qwen|claude [--dry-run] [--force]`: the plan of `qcode_config::import`,
//! printed, and written unless it is a dry run. Terminal output only; the mapping lives in
//! the configuration crate.

use std::io::Write;

use qcode_config::import::{self, Plan, PlanInput, Status, Tool, shown_path};
use qcode_config::{Paths, SettingsFile};
use qcode_extensions::hooks::HookEvent;
use qcode_protocol::{ErrorKind, Problem};

use crate::cli::{ImportArgs, ImportFrom};
use crate::exit::report;

pub fn run(args: &ImportArgs) -> i32 {
    match import(args) {
        Ok(()) => 0,
        Err(p) => report(&p),
    }
}

fn import(args: &ImportArgs) -> Result<(), Problem> {
    let paths = Paths::from_env(&|k| std::env::var(k).ok())?;
    let tool = match args.from {
        ImportFrom::Qwen => Tool::Qwen,
        ImportFrom::Claude => Tool::Claude,
    };
    let events = HookEvent::ALL.map(HookEvent::as_str);
    let plan = import::plan(&PlanInput {
        tool,
        paths: &paths,
        hook_events: &events,
    })?;
    let home = &paths.home;
    if plan.items.is_empty() {
        let place = match tool {
            Tool::Qwen => shown_path(&paths.qwen_dir, home),
            Tool::Claude => "~/.claude or ~/.claude.json".to_string(),
        };
        return Err(Problem::new(
            ErrorKind::Input,
            format!(
                "no {} setup found in {place}; nothing to import",
                tool.display_name()
            ),
        ));
    }
    let mut out = std::io::stdout().lock();
    let _ = print_plan(&mut out, &plan, args, home);
    if args.dry_run {
        let _ = writeln!(out, "{}", summary(&plan, args.force, Mode::DryRun));
        return Ok(());
    }
    let settings = SettingsFile::user(&paths);
    let written = import::apply(&plan, &settings, args.force)?;
    let mode = if written == 0 {
        Mode::NothingToDo
    } else {
        Mode::Written
    };
    let _ = writeln!(out, "{}", summary(&plan, args.force, mode));
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    DryRun,
    Written,
    NothingToDo,
}

/// Text from the other tool's files, safe to print on a terminal (no control characters).
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn print_plan(
    out: &mut impl Write,
    plan: &Plan,
    args: &ImportArgs,
    home: &std::path::Path,
) -> std::io::Result<()> {
    let target = shown_path(&plan.target, home);
    let header = if args.dry_run {
        "dry run: nothing is written"
    } else {
        "writing"
    };
    writeln!(
        out,
        "Importing your {} setup into {target} ({header})",
        plan.tool.display_name()
    )?;
    let read: Vec<String> = plan.sources.iter().map(|p| shown_path(p, home)).collect();
    if !read.is_empty() {
        writeln!(out, "read: {}", clean(&read.join(", ")))?;
    }
    writeln!(out)?;
    for item in &plan.items {
        let label = clean(&item.label);
        let line = match &item.status {
            Status::New(_) => format!("  take     {label}"),
            Status::Conflict(_) if args.force => {
                format!("  replace  {label}: differs from qcode's (--force)")
            }
            Status::Conflict(_) => format!(
                "  keep     {label}: qcode already has a different one (--force replaces it)"
            ),
            Status::Same => format!("  same     {label}: already in qcode"),
            Status::Skipped(why) => format!("  skip     {label}: {}", clean(why)),
        };
        writeln!(out, "{line}")?;
        let shows_notes = match &item.status {
            Status::New(_) => true,
            Status::Conflict(_) => args.force,
            Status::Same | Status::Skipped(_) => false,
        };
        if shows_notes {
            for note in &item.notes {
                writeln!(out, "           note: {}", clean(&note.0))?;
            }
        }
    }
    writeln!(out)
}

fn summary(plan: &Plan, force: bool, mode: Mode) -> String {
    let count = |f: &dyn Fn(&Status) -> bool| plan.items.iter().filter(|i| f(&i.status)).count();
    let same = count(&|s| matches!(s, Status::Same));
    let kept = if force {
        0
    } else {
        count(&|s| matches!(s, Status::Conflict(_)))
    };
    let skipped = count(&|s| matches!(s, Status::Skipped(_)));
    let writes = plan.writes(force);
    let rest = format!("{same} already there, {kept} kept, {skipped} skipped");
    match mode {
        Mode::DryRun => format!("Dry run: would write {writes} ({rest}); nothing was written."),
        Mode::Written => format!("Imported {writes} ({rest})."),
        Mode::NothingToDo if kept > 0 => {
            format!("Nothing written ({rest}); --force replaces what was kept.")
        }
        Mode::NothingToDo if same > 0 => {
            format!("Nothing to import: qcode already has everything that maps ({rest}).")
        }
        Mode::NothingToDo => format!("Nothing to import: nothing here maps onto qcode ({rest})."),
    }
}
