//! What the running kernel supports.

use landlock::{AccessFs, LandlockStatus, Ruleset, RulesetAttr};

/// Landlock on this system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSupport {
    /// The kernel's Landlock ABI version; `0`: no Landlock (not built in, disabled at boot,
    /// blocked by a container, or simulated by [`crate::SIMULATE_UNAVAILABLE_ENV`]).
    pub abi: i32,
    /// Why there is none (when `abi` is 0).
    pub unavailable_because: Option<String>,
}

impl KernelSupport {
    pub fn available(&self) -> bool {
        self.abi > 0
    }

    /// File system rules (ABI 1), with truncation (ABI 3) and device ioctls (ABI 5).
    pub fn fs(&self) -> bool {
        self.abi >= 1
    }

    /// TCP bind / connect rules (ABI 4).
    pub fn net(&self) -> bool {
        self.abi >= 4
    }

    /// Abstract UNIX socket and signal scoping (ABI 6).
    pub fn scopes(&self) -> bool {
        self.abi >= 6
    }

    /// One line per feature, for `qcode sandbox status`.
    pub fn describe(&self) -> Vec<String> {
        if !self.available() {
            return vec![format!(
                "Landlock: not available ({})",
                self.unavailable_because.as_deref().unwrap_or("unknown")
            )];
        }
        let yes = |b: bool| if b { "yes" } else { "no (kernel too old)" };
        vec![
            format!("Landlock: ABI {}", self.abi),
            format!("file system rules: {}", yes(self.fs())),
            format!("truncate rules (ABI 3): {}", yes(self.abi >= 3)),
            format!("TCP bind/connect rules (ABI 4): {}", yes(self.net())),
            format!("device ioctl rules (ABI 5): {}", yes(self.abi >= 5)),
            format!(
                "abstract UNIX socket and signal scoping (ABI 6): {}",
                yes(self.scopes())
            ),
        ]
    }
}

/// Probes the kernel: a throw-away thread restricts itself with a minimal ruleset (Landlock
/// restricts only the calling thread) and reports the ABI. Costs a thread and two system
/// calls; changes nothing for the rest of the process.
pub fn status() -> KernelSupport {
    if std::env::var_os(crate::SIMULATE_UNAVAILABLE_ENV).is_some_and(|v| !v.is_empty()) {
        return KernelSupport {
            abi: 0,
            unavailable_because: Some(format!("simulated by {}", crate::SIMULATE_UNAVAILABLE_ENV)),
        };
    }
    let probe = std::thread::spawn(|| {
        Ruleset::default()
            .handle_access(AccessFs::Execute)
            .and_then(|r| r.create())
            .and_then(|r| r.restrict_self())
            .map(|s| s.landlock)
            .map_err(|e| e.to_string())
    });
    match probe.join() {
        Ok(Ok(LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        })) => KernelSupport {
            abi: kernel_abi.unwrap_or(effective_abi as i32),
            unavailable_because: None,
        },
        Ok(Ok(LandlockStatus::NotEnabled)) => KernelSupport {
            abi: 0,
            unavailable_because: Some("supported by the kernel but not enabled at boot".into()),
        },
        Ok(Ok(LandlockStatus::NotImplemented)) => KernelSupport {
            abi: 0,
            unavailable_because: Some(
                "not in this kernel (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK), \
                 or blocked by a container"
                    .into(),
            ),
        },
        Ok(Err(e)) => KernelSupport {
            abi: 0,
            unavailable_because: Some(e),
        },
        Err(_) => KernelSupport {
            abi: 0,
            unavailable_because: Some("the probe failed".into()),
        },
    }
}

/// What a policy cannot enforce on a kernel with `abi`.
pub(crate) fn missing_for_abi(abi: i32, network: bool) -> Vec<String> {
    let mut out = Vec::new();
    if abi < 3 {
        out.push("truncating files outside the writable roots is not prevented (ABI < 3)".into());
    }
    if !network && abi < 4 {
        out.push("network access is not restricted (ABI < 4)".into());
    }
    if abi < 6 {
        out.push(
            "abstract UNIX sockets and signals to other processes are not scoped (ABI < 6)".into(),
        );
    }
    out
}

/// What is missing with `support` for a policy with `network` (network on or off): empty when
/// everything is enforced. With no Landlock at all, one sentence that says so.
pub fn missing_protection(support: &KernelSupport, network: bool) -> Vec<String> {
    if !support.available() {
        return vec![format!(
            "Landlock is not available ({}): commands the model runs could write anywhere you can, \
             read your credentials and use the network",
            support.unavailable_because.as_deref().unwrap_or("unknown")
        )];
    }
    missing_for_abi(support.abi, network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_abis_report_what_they_lack() {
        assert!(missing_for_abi(7, false).is_empty());
        assert!(missing_for_abi(7, true).is_empty());
        let v1 = missing_for_abi(1, false);
        assert_eq!(v1.len(), 3, "{v1:?}");
        assert!(
            missing_for_abi(4, true)
                .iter()
                .all(|m| !m.contains("network"))
        );
        let none = KernelSupport {
            abi: 0,
            unavailable_because: Some("x".into()),
        };
        let m = missing_protection(&none, false);
        assert!(m[0].starts_with("Landlock is not available (x)"), "{m:?}");
        assert_eq!(
            none.describe(),
            vec!["Landlock: not available (x)".to_string()]
        );
    }

    #[test]
    fn this_kernel_is_probed_without_restricting_the_caller() {
        let s = status();
        // The caller can still read everything it could (the probe restricted only itself).
        assert!(std::fs::read_dir("/").is_ok());
        if s.available() {
            assert!(s.describe()[0].starts_with("Landlock: ABI "), "{s:?}");
        }
    }
}
