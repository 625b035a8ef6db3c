//! The launcher the shell tool puts before `bash -c`: it applies the session's [`Policy`] to
//! itself, then `exec`s the command, so the policy holds for the command and everything it
//! starts. Run as the small `qcode-sandbox-exec` program installed beside qcode (preferred: it
//! loads in a fraction of the time) or as `qcode __sandbox-exec`.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::ExitCode;

use crate::Policy;

/// The file name of the dedicated launcher program, beside the `qcode` binary.
pub const LAUNCHER_PROGRAM: &str = "qcode-sandbox-exec";

/// The exit code when the sandbox could not be applied (the command did not run).
const CANNOT_SANDBOX: u8 = 126;
/// The exit code when the program could not be started.
const CANNOT_EXEC: u8 = 127;

/// The launcher: `POLICY_JSON -- PROGRAM [ARGS…]` (the arguments after the program name, or
/// after qcode's `__sandbox-exec`). Applies the policy, then `exec`s the program; returns only
/// on failure: 126 when the sandbox could not be applied (nothing ran), 127 when the program
/// could not be started.
pub fn launch(args: Vec<OsString>) -> ExitCode {
    let fail = |code: u8, msg: &str| {
        eprintln!("qcode sandbox: {msg}");
        ExitCode::from(code)
    };
    let (policy, command) = match args.as_slice() {
        [policy, dashes, program, rest @ ..] if dashes == "--" => (policy, (program, rest)),
        _ => {
            return fail(
                CANNOT_SANDBOX,
                "usage: qcode-sandbox-exec POLICY_JSON -- PROGRAM [ARGS…] (internal to qcode)",
            );
        }
    };
    let Some(policy) = policy.to_str() else {
        return fail(CANNOT_SANDBOX, "the policy is not UTF-8");
    };
    let policy = match Policy::from_json(policy) {
        Ok(p) => p,
        Err(e) => return fail(CANNOT_SANDBOX, &e),
    };
    match crate::apply(&policy) {
        Ok(applied) => {
            // What the kernel lacks was said once at the start of the session; what only the
            // launcher can find out (no private mount namespace) is said here.
            for m in applied
                .missing
                .iter()
                .filter(|m| m.starts_with(".git/hooks"))
            {
                eprintln!("[sandbox: {m}]");
            }
        }
        Err(e) => return fail(CANNOT_SANDBOX, &format!("{e}; the command was not run")),
    }
    let (program, rest) = command;
    let err = std::process::Command::new(program).args(rest).exec();
    fail(
        CANNOT_EXEC,
        &format!("cannot run {}: {err}", Path::new(program).display()),
    )
}
