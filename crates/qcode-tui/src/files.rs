//! `@path` completion: a gitignore-aware walk of the working directory (run on a blocking
//! thread the first time `@` is typed, never at start-up) and a small fuzzy matcher.

use std::path::Path;

/// Files indexed at most (large monorepos stay responsive).
pub const MAX_FILES: usize = 50_000;

/// Lists files under `root` (relative paths with `/`), honouring .gitignore, .ignore and hidden
/// rules, at most `limit` of them, sorted.
pub fn walk(root: &Path, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .build();
    for entry in walker.flatten() {
        if out.len() >= limit {
            break;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort();
    out
}

/// Scores `candidate` against `query` (subsequence, case-insensitive); higher is better.
pub fn score(query: &str, candidate: &str) -> Option<i64> {
    if query.is_empty() {
        return Some(-(candidate.len() as i64));
    }
    let cand: Vec<char> = candidate.chars().collect();
    let lower: Vec<char> = candidate.to_lowercase().chars().collect();
    if lower.len() != cand.len() {
        return None;
    }
    let name_start = candidate
        .rfind('/')
        .map_or(0, |i| candidate[..=i].chars().count());
    let mut score: i64 = 0;
    let mut ci = 0;
    let mut prev: Option<usize> = None;
    for q in query.to_lowercase().chars() {
        let found = (ci..lower.len()).find(|&i| lower[i] == q)?;
        score += 1;
        if prev.is_some_and(|p| p + 1 == found) {
            score += 5;
        }
        if found == 0 || matches!(cand[found - 1], '/' | '_' | '-' | '.') {
            score += 8;
        }
        if found >= name_start {
            score += 3;
        }
        prev = Some(found);
        ci = found + 1;
    }
    Some(score * 100 - cand.len() as i64)
}

/// The best `limit` matches, best first.
pub fn fuzzy_match(query: &str, candidates: &[String], limit: usize) -> Vec<String> {
    let mut scored: Vec<(i64, &String)> = candidates
        .iter()
        .filter_map(|c| score(query, c).map(|s| (s, c)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, c)| c.clone())
        .collect()
}

/// The `@token` the cursor is in: (byte start of `@`, the query after it).
pub fn at_token(text: &str, cursor: usize) -> Option<(usize, &str)> {
    let before = &text[..cursor];
    let start = before.rfind(|c: char| c.is_whitespace()).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    let token = &before[start..];
    let query = token.strip_prefix('@')?;
    Some((start, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_respects_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "").unwrap();
        std::fs::write(dir.path().join("target/out.bin"), "").unwrap();
        std::fs::write(dir.path().join("README.md"), "").unwrap();
        assert_eq!(walk(dir.path(), 100), vec!["README.md", "src/main.rs"]);
        assert_eq!(walk(dir.path(), 1).len(), 1);
    }

    #[test]
    fn fuzzy_prefers_file_names_and_contiguous_matches() {
        let files: Vec<String> = [
            "src/main.rs",
            "crates/tui/src/app/mod.rs",
            "docs/maintainers.md",
            "src/domain.rs",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            fuzzy_match("main", &files, 2),
            vec!["src/main.rs", "docs/maintainers.md"]
        );
        assert_eq!(
            fuzzy_match("amod", &files, 5),
            vec!["crates/tui/src/app/mod.rs"]
        );
        assert!(fuzzy_match("zzz", &files, 5).is_empty());
    }

    #[test]
    fn finds_the_at_token_under_the_cursor() {
        assert_eq!(at_token("look at @src/ma", 15), Some((8, "src/ma")));
        assert_eq!(at_token("@", 1), Some((0, "")));
        assert_eq!(at_token("mail me@x", 9), None);
        assert_eq!(at_token("no token", 8), None);
        assert_eq!(at_token("你好 @文", 11), Some((7, "文")));
    }
}
