//! Reporting a failure: one clear line, a hint, and the documented exit code.

use qcode_protocol::Problem;

/// Prints `problem` on stderr (`error: …`, then `hint: …`) and returns its exit code.
pub fn report(problem: &Problem) -> i32 {
    // Never a panic: stderr may be a terminal that went away.
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", problem.message);
    if let Some(h) = &problem.hint {
        let _ = writeln!(err, "hint: {h}");
    }
    qcode_exec::exit_code_for(problem.kind).code()
}

/// Prints `warning: …` on stderr, ignoring a stderr that went away (never a panic).
pub fn warn(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "warning: {args}");
}
