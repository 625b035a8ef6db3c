//! Reporting a failure: one clear line, a hint, and the documented exit code.

use qcode_protocol::Problem;

/// Prints `problem` on stderr (`error: …`, then `hint: …`) and returns its exit code.
pub fn report(problem: &Problem) -> i32 {
    eprintln!("error: {}", problem.message);
    if let Some(h) = &problem.hint {
        eprintln!("hint: {h}");
    }
    qcode_exec::exit_code_for(problem.kind).code()
}
