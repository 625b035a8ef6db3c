//! The names tools are offered to the model under: `mcp__<server>__<tool>`, characters outside
//! `[A-Za-z0-9_-]` replaced by `_`, at most [`MAX_NAME_LEN`] characters (providers' limit), and
//! unique: a long name keeps its start and gets a short hash of the full name; a name that is
//! still taken gets `_2`, `_3`, … (in server order, then the server's tool order, so the same
//! configuration always gives the same names).

use std::collections::BTreeSet;

/// Providers reject longer function names.
pub const MAX_NAME_LEN: usize = 64;

/// The prefix every MCP tool name starts with.
pub const PREFIX: &str = "mcp__";

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a: a stable short hash (not for security), so a shortened name stays the same across
/// runs and versions.
fn fnv1a(text: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `mcp__<server>__<tool>`, sanitized and within [`MAX_NAME_LEN`] (not yet made unique).
pub fn qualified(server: &str, tool: &str) -> String {
    let full = format!("{PREFIX}{}__{}", sanitize(server), sanitize(tool));
    if full.len() <= MAX_NAME_LEN {
        return full;
    }
    // All ASCII after sanitizing, so byte slicing is safe.
    let hash = format!("{:08x}", fnv1a(&format!("{server}\u{0}{tool}")));
    format!("{}_{hash}", &full[..MAX_NAME_LEN - hash.len() - 1])
}

/// Hands out unique names in call order.
#[derive(Debug, Default)]
pub struct NameAllocator {
    taken: BTreeSet<String>,
}

impl NameAllocator {
    /// The name for `tool` of `server`, unique among the names handed out so far.
    pub fn allocate(&mut self, server: &str, tool: &str) -> String {
        let base = qualified(server, tool);
        let mut name = base.clone();
        let mut n = 2u32;
        while self.taken.contains(&name) {
            let suffix = format!("_{n}");
            let keep = base.len().min(MAX_NAME_LEN - suffix.len());
            name = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_bounded_and_unique() {
        assert_eq!(qualified("my server", "get.sum"), "mcp__my_server__get_sum");
        assert_eq!(qualified("üñï", "a/b"), "mcp_______a_b");
        let long = qualified(
            "a-very-long-server-name-indeed",
            "and-an-even-longer-tool-name-here",
        );
        assert_eq!(long.len(), MAX_NAME_LEN);
        assert!(long.starts_with("mcp__a-very-long-server-name-indeed__and-an-"));
        assert_eq!(
            long,
            qualified(
                "a-very-long-server-name-indeed",
                "and-an-even-longer-tool-name-here"
            ),
            "stable"
        );
        assert_ne!(
            long,
            qualified(
                "a-very-long-server-name-indeed",
                "and-an-even-longer-tool-name-HERE"
            ),
            "the hash tells long names apart"
        );

        let mut names = NameAllocator::default();
        assert_eq!(names.allocate("a.b", "t"), "mcp__a_b__t");
        assert_eq!(names.allocate("a b", "t"), "mcp__a_b__t_2");
        assert_eq!(names.allocate("a/b", "t"), "mcp__a_b__t_3");
        let l1 = names.allocate(&"s".repeat(70), "t");
        let l2 = names.allocate(&"s".repeat(70), "t");
        assert_eq!(l2.len(), MAX_NAME_LEN);
        assert_ne!(l1, l2);
        assert!(l2.ends_with("_2"));
    }
}
