//! Allow-lists with holes: Landlock grants a right to a whole hierarchy and has no "deny"
//! rule, so keeping a file out of reach inside an allowed tree means allowing that tree's
//! other parts instead. [`split`] walks from the tree's root down to each excluded file,
//! allowing every sibling of the path on the way, and the other entries of the file's own
//! directory one by one. The directories on the way get no rule of their own: an entry
//! created in one of them after the plan was made is outside every rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::policy::normalize;

/// The paths that get read rights (each with everything beneath it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan {
    pub beneath: Vec<PathBuf>,
}

/// Read rights for everything but `protected`.
pub fn read_plan(protected: &[PathBuf]) -> ReadPlan {
    ReadPlan {
        beneath: split(Path::new("/"), protected),
    }
}

/// Write rights beneath each of `roots`, but not for `protected` files inside them.
pub fn write_plan(roots: &[PathBuf], protected: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in roots {
        for p in split(root, protected) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `path` with its longest existing ancestor resolved (symbolic links followed), the rest
/// appended as written.
fn resolve(path: &Path) -> PathBuf {
    let path = normalize(path);
    let mut rest = Vec::new();
    let mut cur = path.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(cur) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return path,
        }
    }
}

/// The parts of the tree at `root` that hold none of `excluded` (see the module doc).
pub(crate) fn split(root: &Path, excluded: &[PathBuf]) -> Vec<PathBuf> {
    let root = resolve(root);
    // Each excluded file as written (its directory resolved) and, for a symbolic link, its
    // target too.
    let mut files: BTreeSet<PathBuf> = BTreeSet::new();
    for e in excluded {
        let as_written = match (e.parent(), e.file_name()) {
            (Some(parent), Some(name)) => resolve(parent).join(name),
            _ => resolve(e),
        };
        files.insert(as_written);
        if let Ok(target) = std::fs::canonicalize(e) {
            files.insert(target);
        }
    }
    files.retain(|f| f.starts_with(&root) && *f != root);
    if files.is_empty() {
        return vec![root];
    }
    let mut blocked: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &files {
        let mut dir = f.parent();
        while let Some(d) = dir {
            if !d.starts_with(&root) {
                break;
            }
            blocked.insert(d.to_path_buf());
            dir = d.parent();
        }
    }
    // A path that is, or holds, something kept out of reach.
    let holds_excluded = |p: &Path| blocked.contains(p) || files.iter().any(|f| f.starts_with(p));
    let mut out = Vec::new();
    for dir in &blocked {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue; // what cannot be listed cannot be allowed
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if holds_excluded(&path) {
                continue;
            }
            let is_link = entry.file_type().map(|t| t.is_symlink()).unwrap_or(true);
            if is_link {
                // A rule opens its path following links: a link is allowed only when its
                // target is a part of this tree that holds nothing excluded.
                match std::fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&root) && !holds_excluded(&target) => {}
                    _ => continue,
                }
            }
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excluded_file_leaves_its_siblings_and_the_siblings_of_its_ancestors() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".qcode/commands")).unwrap();
        std::fs::create_dir_all(home.join("proj/src")).unwrap();
        std::fs::write(home.join(".qcode/credentials.json"), "{}").unwrap();
        std::fs::write(home.join(".qcode/settings.json"), "{}").unwrap();
        std::fs::write(home.join(".bashrc"), "").unwrap();
        std::fs::create_dir_all(root.join("usr")).unwrap();
        let excluded = vec![
            home.join(".qcode/credentials.json"),
            home.join(".qcode/credentials.json.lock"),
        ];
        let mut got = split(&root, &excluded);
        got.sort();
        let mut want = vec![
            home.join(".bashrc"),
            home.join(".qcode/commands"),
            home.join(".qcode/settings.json"),
            home.join("proj"),
            root.join("usr"),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn nothing_excluded_inside_means_the_whole_tree() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        assert_eq!(
            split(&root, &[PathBuf::from("/elsewhere/credentials.json")]),
            vec![root.clone()]
        );
        assert_eq!(write_plan(&[root.clone(), root.clone()], &[]), vec![root]);
    }

    #[test]
    fn links_into_the_excluded_parts_are_left_out() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("secret")).unwrap();
        std::fs::create_dir_all(root.join("ok")).unwrap();
        std::fs::write(root.join("secret/creds.json"), "k").unwrap();
        std::fs::write(root.join("secret/other"), "").unwrap();
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(root.join(target), root.join(name)).unwrap();
        };
        link("secret", "to-secret-dir");
        link("secret/creds.json", "to-creds");
        link(".", "to-root");
        link("ok", "to-ok");
        link("missing", "dangling");
        let got = split(&root, &[root.join("secret/creds.json")]);
        assert!(got.contains(&root.join("to-ok")), "{got:?}");
        assert!(got.contains(&root.join("ok")), "{got:?}");
        assert!(got.contains(&root.join("secret/other")), "{got:?}");
        for bad in [
            "to-secret-dir",
            "to-creds",
            "to-root",
            "dangling",
            "secret",
            "secret/creds.json",
        ] {
            assert!(!got.contains(&root.join(bad)), "{bad} in {got:?}");
        }
    }

    #[test]
    fn a_protected_link_hides_its_target_too() {
        let t = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("vault")).unwrap();
        std::fs::write(root.join("vault/real.json"), "k").unwrap();
        std::os::unix::fs::symlink(root.join("vault/real.json"), root.join("a/creds.json"))
            .unwrap();
        let got = split(&root, &[root.join("a/creds.json")]);
        assert!(!got.contains(&root.join("vault")), "{got:?}");
        assert!(!got.contains(&root.join("vault/real.json")), "{got:?}");
        assert!(!got.contains(&root.join("a/creds.json")), "{got:?}");
    }
}
