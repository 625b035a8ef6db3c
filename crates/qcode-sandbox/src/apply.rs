//! Restricting the calling process to a policy.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, LandlockStatus,
    PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

use crate::plan::{read_plan, write_plan};
use crate::policy::{Mode, Policy};

/// The ABI this crate asks for (and is tested with); newer kernels get what it defines.
pub(crate) const TARGET_ABI: ABI = ABI::V7;

/// Why a policy could not be applied at all.
#[derive(Debug)]
pub struct SandboxError(pub String);

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SandboxError {}

/// What [`apply`] enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The Landlock ABI in force (0: none, the policy was `off`).
    pub abi: i32,
    /// Every requested restriction is enforced.
    pub complete: bool,
    /// What could not be enforced, one short phrase each.
    pub missing: Vec<String>,
}

/// Devices ordinary tools open for writing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// Restricts this process (and what it `exec`s) to `policy`. Call it in a single-threaded
/// process. An error means nothing useful is enforced and the command must not run; a
/// partial enforcement (an older kernel) is an `Ok` whose `missing` says what is not.
pub fn apply(policy: &Policy) -> Result<Applied, SandboxError> {
    if policy.mode == Mode::Off {
        return Ok(Applied {
            abi: 0,
            complete: true,
            missing: Vec::new(),
        });
    }
    let mut missing = Vec::new();
    let write_roots = policy.write_roots();
    // Mounts first: a Landlock domain may not change them. The read-only directories of the
    // workspace, and the directories of credential stores that lie inside a writable tree
    // (a home directory in the temp directory, a workspace that is the home directory).
    let store_dirs = store_dirs_inside(&policy.protected_files, &write_roots);
    let mut read_only = policy.read_only_subpaths();
    read_only.extend(store_dirs.iter().cloned());
    let mounted = if read_only.is_empty() {
        Ok(Vec::new())
    } else {
        crate::mounts::read_only(&read_only)
    };
    let stores_mounted = match &mounted {
        Ok(done) => store_dirs
            .iter()
            .filter(|d| d.is_dir())
            .all(|d| done.contains(d)),
        Err(_) => false,
    };
    if let Err(e) = &mounted
        && !policy.read_only_subpaths().is_empty()
    {
        missing.push(format!(".git/hooks and .qcode stay writable: {e}"));
    }
    let abi = TARGET_ABI;
    let err = |what: &str, e: &dyn std::fmt::Display| {
        SandboxError(format!("cannot set up the sandbox ({what}): {e}"))
    };
    let mut ruleset = Ruleset::default()
        // The file system rules are the point: no Landlock at all is an error.
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))
        .map_err(|e| err("file system", &e))?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(|e| err("file system", &e))?;
    if !policy.network {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(|e| err("network", &e))?
            .scope(Scope::AbstractUnixSocket)
            .map_err(|e| err("abstract UNIX sockets", &e))?;
    }
    ruleset = ruleset
        .scope(Scope::Signal)
        .map_err(|e| err("signals", &e))?;
    let mut created = ruleset.create().map_err(|e| err("ruleset", &e))?;

    let read = AccessFs::from_read(abi);
    let write = AccessFs::from_write(abi);
    // Every directory may be listed (names only: file contents need ReadFile).
    created = add(created, Path::new("/"), AccessFs::ReadDir.into())?;
    for path in read_plan(&policy.protected_files).beneath {
        created = add(created, &path, read)?;
    }
    // With the stores' directories mounted read-only the writable trees stay whole; without,
    // the trees are split around the stores (see `plan`).
    let write_rules = if stores_mounted {
        write_roots
    } else {
        write_plan(&write_roots, &policy.protected_files)
    };
    for path in write_rules {
        created = add(created, &path, write)?;
    }
    // Devices without ioctls: nothing may push input into qcode's terminal (TIOCSTI).
    for device in DEVICES {
        created = add(
            created,
            Path::new(device),
            write & !BitFlags::from(AccessFs::IoctlDev),
        )?;
    }
    let status = created.restrict_self().map_err(|e| err("restrict", &e))?;
    let abi_in_force = match status.landlock {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => kernel_abi.unwrap_or(effective_abi as i32),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => 0,
    };
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(SandboxError(
            "cannot set up the sandbox: the kernel enforces no Landlock rule".into(),
        ));
    }
    missing.extend(crate::status::missing_for_abi(abi_in_force, policy.network));
    Ok(Applied {
        abi: abi_in_force,
        complete: status.ruleset == RulesetStatus::FullyEnforced && missing.is_empty(),
        missing,
    })
}

/// The directories of `protected` files that lie inside one of `roots` (resolved).
fn store_dirs_inside(protected: &[PathBuf], roots: &[PathBuf]) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = roots
        .iter()
        .map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()))
        .collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for file in protected {
        let Some(dir) = file.parent() else { continue };
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if roots.iter().any(|r| dir.starts_with(r)) && !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// One rule; a path that cannot be opened (gone, not permitted) is skipped: it gets no right,
/// which is the safe direction. Rights that make no sense for a file are dropped for files.
fn add(
    created: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
) -> Result<landlock::RulesetCreated, SandboxError> {
    let Ok(fd) = PathFd::new(path) else {
        return Ok(created);
    };
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(TARGET_ABI)
    };
    if access.is_empty() {
        return Ok(created);
    }
    created
        .add_rule(PathBeneath::new(fd, access))
        .map_err(|e| SandboxError(format!("cannot allow {}: {e}", path.display())))
}
