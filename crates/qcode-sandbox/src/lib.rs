//! The sandbox for the commands the model runs (Linux, Landlock).
//!
//! A [`Policy`] says what a command may do: its [`Mode`] (`workspace-write`, the default;
//! `read-only`; `off`), the workspace roots, the extra writable roots, the credential stores
//! that stay unreadable, and whether TCP networking is allowed. [`apply`] restricts the calling
//! process — the sandbox launcher, a single-threaded process that `exec`s the command right
//! after — and reports what the kernel could not enforce. [`status`] describes what the running
//! kernel supports. [`explain_failure`] reads a failed command's output and says when the
//! sandbox is the likely cause.
//!
//! What a policy enforces (see docs/sandbox.md):
//! - reads everywhere except the protected files ([`Policy::protected_files`]; Landlock is an
//!   allow-list, so the read rules are built by [`read_plan`]: the children of `/` minus the
//!   directories on the way to a protected file, recursively, down to the file's directory,
//!   whose other entries are allowed one by one — an entry created later in one of those
//!   directories is not readable inside the sandbox);
//! - writes only beneath the workspace roots, the system temp directory, the writable roots
//!   and a few devices (`/dev/null`, terminals); `read-only` keeps only the temp directory
//!   and the devices;
//! - inside each workspace root `.git/hooks` and `.qcode` read-only: Landlock rights are
//!   inherited by a whole hierarchy, so these are read-only bind mounts in a private user and
//!   mount namespace of the command (Landlock then forbids changing mounts);
//! - TCP bind / connect denied unless [`Policy::network`]; abstract UNIX sockets (network off)
//!   and signals to processes outside the sandbox scoped where the ABI allows (ABI ≥ 6).
//!
//! This crate runs nothing itself and knows no configuration: the binary builds the policy
//! from settings and re-executes itself as the launcher. It must stay free of `unsafe` and of
//! anything that would slow the launcher down (no runtime, no configuration loading).

mod apply;
mod explain;
mod launch;
mod mounts;
mod plan;
mod policy;
mod status;

pub use apply::{Applied, SandboxError, apply};
pub use explain::explain_failure;
pub use launch::{LAUNCHER_PROGRAM, launch};
pub use plan::{ReadPlan, read_plan, write_plan};
pub use policy::{Mode, Policy, PolicyPaths, READ_ONLY_SUBPATHS, protected_files};
pub use status::{KernelSupport, missing_protection, status};

/// The environment variable that makes [`status`] report Landlock as unavailable. For tests
/// only (it simulates an old kernel or a container that blocks Landlock); it can only weaken
/// what qcode reports, and a sandbox the user asked for explicitly then refuses to run
/// commands.
pub const SIMULATE_UNAVAILABLE_ENV: &str = "QCODE_TEST_SANDBOX_UNAVAILABLE";
