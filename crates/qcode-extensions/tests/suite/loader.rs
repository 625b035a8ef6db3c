//! The loader through the command catalog: namespaces, precedence, built-in clashes, per-file
//! errors, reload on mtime, and the files a hostile repository could plant.

use qcode_extensions::commands::{command_catalog, command_roots};
use qcode_extensions::loader::{MAX_FILE_BYTES, frontmatter};

use super::support::{Dirs, TRUSTED, touch_later, write};

fn names(c: &qcode_extensions::Catalog<qcode_extensions::CustomCommand>) -> Vec<String> {
    c.items().keys().cloned().collect()
}

#[test]
fn subdirectories_are_namespaces() {
    let d = Dirs::new();
    write(
        &d.home,
        ".qcode/commands/git/commit.md",
        "Commit the staged work.",
    );
    write(&d.home, ".qcode/commands/a/b/c.md", "Deep.");
    write(&d.home, ".qcode/commands/review.md", "Review.");
    write(&d.home, ".qcode/commands/notes.txt", "not a command");
    let mut c = command_catalog(command_roots(&d.home, None, TRUSTED), vec![]);
    let r = c.refresh();
    assert!(r.reloaded);
    assert!(r.new_diagnostics.is_empty(), "{:?}", r.new_diagnostics);
    assert_eq!(names(&c), ["a:b:c", "git:commit", "review"]);
}

#[test]
fn project_overrides_user_and_qcode_overrides_qwen() {
    let d = Dirs::new();
    write(&d.home, ".qcode/commands/review.md", "user review");
    write(&d.home, ".qcode/commands/only-user.md", "user only");
    write(&d.project, ".qwen/commands/review.md", "qwen review");
    write(&d.project, ".qwen/commands/legacy.md", "qwen legacy");
    write(&d.project, ".qcode/commands/legacy.md", "qcode legacy");
    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), TRUSTED), vec![]);
    c.refresh();
    assert_eq!(c.get("review").unwrap().template, "qwen review");
    assert_eq!(c.get("legacy").unwrap().template, "qcode legacy");
    assert_eq!(c.get("only-user").unwrap().template, "user only");
    assert_eq!(
        c.get("review").unwrap().origin.scope,
        qcode_extensions::Scope::Project
    );
}

#[test]
fn a_builtin_name_wins_and_the_clash_is_reported_once() {
    let d = Dirs::new();
    write(&d.home, ".qcode/commands/help.md", "my help");
    write(&d.project, ".qcode/commands/help.md", "project help");
    write(&d.project, ".qcode/commands/fine.md", "fine");
    let mut c = command_catalog(
        command_roots(&d.home, Some(&d.project), TRUSTED),
        ["help".to_string(), "clear".to_string()],
    );
    let r = c.refresh();
    assert_eq!(names(&c), ["fine"]);
    let clashes: Vec<_> = r
        .new_diagnostics
        .iter()
        .filter(|x| x.message.contains("`help` is a built-in name"))
        .collect();
    assert_eq!(clashes.len(), 1, "{:?}", r.new_diagnostics);
    // A later change reloads, but the clash is not reported again.
    write(&d.project, ".qcode/commands/more.md", "more");
    let r = c.refresh();
    assert!(r.reloaded);
    assert!(r.new_diagnostics.is_empty(), "{:?}", r.new_diagnostics);
    assert_eq!(c.diagnostics().len(), 1);
}

#[test]
fn a_broken_file_is_reported_with_its_path_and_the_others_load() {
    let d = Dirs::new();
    let bad = write(
        &d.home,
        ".qcode/commands/bad.md",
        "---\ndescription: [unclosed\n---\nbody",
    );
    let open = write(
        &d.home,
        ".qcode/commands/open.md",
        "---\ndescription: x\nbody",
    );
    let badtoml = write(&d.home, ".qcode/commands/t.toml", "prompt = ");
    let badname = write(&d.home, ".qcode/commands/with space.md", "x");
    write(
        &d.home,
        ".qcode/commands/good.md",
        "---\ndescription: Good\n---\nbody",
    );
    let mut c = command_catalog(command_roots(&d.home, None, TRUSTED), vec![]);
    let r = c.refresh();
    assert_eq!(names(&c), ["good"]);
    let msg = |p: &std::path::Path| {
        r.new_diagnostics
            .iter()
            .find(|x| x.path == p)
            .map(|x| x.message.clone())
            .unwrap_or_else(|| panic!("no diagnostic for {}: {:?}", p.display(), r.new_diagnostics))
    };
    assert!(msg(&bad).starts_with("frontmatter:"), "{}", msg(&bad));
    assert!(msg(&open).contains("no closing `---`"), "{}", msg(&open));
    assert!(msg(&badtoml).starts_with("TOML:"), "{}", msg(&badtoml));
    assert!(
        msg(&badname).contains("not a usable command name"),
        "{}",
        msg(&badname)
    );
    assert_eq!(r.new_diagnostics.len(), 4);
}

#[test]
fn an_edited_file_is_picked_up_and_an_unchanged_tree_is_not_reread() {
    let d = Dirs::new();
    let f = write(&d.home, ".qcode/commands/r.md", "first");
    let mut c = command_catalog(command_roots(&d.home, None, TRUSTED), vec![]);
    c.refresh();
    assert_eq!(c.scans(), 1);
    let r = c.refresh();
    assert!(!r.reloaded);
    assert_eq!(c.scans(), 1, "nothing changed: no re-read");
    std::fs::write(&f, "second").unwrap();
    touch_later(&f, 5);
    assert!(c.refresh().reloaded);
    assert_eq!(c.get("r").unwrap().template, "second");
    // A new file in a new subdirectory, and a removed one.
    write(&d.home, ".qcode/commands/ns/new.md", "new");
    std::fs::remove_file(&f).unwrap();
    assert!(c.refresh().reloaded);
    assert_eq!(names(&c), ["ns:new"]);
    assert_eq!(c.scans(), 3);
}

#[test]
fn oversize_fifo_and_escaping_symlinks_are_refused() {
    let d = Dirs::new();
    let root = d.project.join(".qcode/commands");
    let big = write(&root, "big.md", &"x".repeat(MAX_FILE_BYTES as usize + 1));
    write(&root, "edge.md", &"y".repeat(MAX_FILE_BYTES as usize));
    let fifo = root.join("pipe.md");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let secret = write(&d.outside, "secret.md", "SECRET CONTENT");
    let link = root.join("leak.md");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let dirlink = root.join("outdir");
    std::os::unix::fs::symlink(&d.outside, &dirlink).unwrap();
    let inner = write(&root, "real.md", "real");
    std::os::unix::fs::symlink(&inner, root.join("alias.md")).unwrap();

    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), TRUSTED), vec![]);
    let r = c.refresh(); // must return: a FIFO is never opened
    assert_eq!(names(&c), ["alias", "edge", "real"]);
    let msg = |p: &std::path::Path| {
        r.new_diagnostics
            .iter()
            .find(|x| x.path == p)
            .map(|x| x.message.clone())
            .unwrap_or_default()
    };
    assert!(msg(&big).contains("too large"), "{:?}", r.new_diagnostics);
    assert!(msg(&big).contains("256 KiB"), "{}", msg(&big));
    assert!(
        msg(&fifo).contains("not a regular file"),
        "{:?}",
        r.new_diagnostics
    );
    assert!(msg(&link).contains("outside"), "{:?}", r.new_diagnostics);
    for x in &r.new_diagnostics {
        assert!(!x.message.contains("SECRET CONTENT"));
    }
    assert!(c.items().values().all(|x| !x.template.contains("SECRET")));
}

#[test]
fn frontmatter_is_optional_and_a_bom_or_crlf_is_fine() {
    #[derive(serde::Deserialize, Default, Debug)]
    struct M {
        description: Option<String>,
    }
    let (m, body): (M, String) = frontmatter("plain body").unwrap();
    assert!(m.description.is_none());
    assert_eq!(body, "plain body");
    let (m, body): (M, String) =
        frontmatter("\u{feff}---\r\ndescription: hi\r\n---\r\nbody\r\n").unwrap();
    assert_eq!(m.description.as_deref(), Some("hi"));
    assert_eq!(body, "body\r\n");
    let (m, _): (M, String) = frontmatter("---\n---\nbody").unwrap();
    assert!(m.description.is_none());
}

#[test]
fn a_project_root_that_links_out_of_the_project_is_not_read() {
    let d = Dirs::new();
    write(&d.outside, "stolen.md", "outside text");
    std::fs::create_dir_all(d.project.join(".qcode")).unwrap();
    std::os::unix::fs::symlink(&d.outside, d.project.join(".qcode/commands")).unwrap();
    // The user's own root may be a link (dotfiles), and is read.
    let dotfiles = d.outside.join("dotfiles");
    write(&dotfiles, "mine.md", "mine");
    std::fs::create_dir_all(d.home.join(".qcode")).unwrap();
    std::os::unix::fs::symlink(&dotfiles, d.home.join(".qcode/commands")).unwrap();
    let mut c = command_catalog(command_roots(&d.home, Some(&d.project), TRUSTED), vec![]);
    let r = c.refresh();
    assert_eq!(names(&c), ["mine"]);
    assert_eq!(r.new_diagnostics.len(), 1, "{:?}", r.new_diagnostics);
    assert_eq!(r.new_diagnostics[0].path, d.project.join(".qcode/commands"));
    assert!(r.new_diagnostics[0].message.contains("it is not read"));
    assert!(!c.refresh().reloaded);
}
