//! The sandbox launcher as a program of its own, installed beside `qcode`: the shell tool runs
//! `qcode-sandbox-exec POLICY_JSON -- bash -c CMD`. It does what `qcode __sandbox-exec` does
//! (see `qcode_sandbox::launch`), with nothing else linked in, so that it starts fast.

fn main() -> std::process::ExitCode {
    qcode_sandbox::launch(std::env::args_os().skip(1).collect())
}
