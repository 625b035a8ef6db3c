//! The directory walk shared by `glob`, `grep_search` and `list_directory`: ripgrep's `ignore`
//! crate, honouring `.gitignore` (also outside a git repository), `.ignore` and git's global
//! excludes, including dotfiles, and never descending into `.git`.

use std::path::Path;

use ignore::WalkBuilder;

/// A walker over `root` with the workspace's ignore rules. Uses as many threads as the machine
/// has cores when built in parallel.
pub(crate) fn builder(root: &Path) -> WalkBuilder {
    let mut b = WalkBuilder::new(root);
    b.hidden(false)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    b
}
