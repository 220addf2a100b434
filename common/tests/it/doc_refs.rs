//! The guides point at code by item (or a folder), never by line number: `` `echo/src/server.rs` `` names a
//! file and `` `echo/src/server.rs#run` `` an item in it (a function, type, trait, constant,
//! module or macro; a shell function; a Python function or class). Every such reference in
//! README.md, ARCHITECTURE.md and docs/*.md must name a file of the workspace and an item that
//! file defines, so a move or a rename can never leave a page pointing at the wrong code; and no
//! page may use a `path:line` reference, which drifts silently.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("common/ is inside the workspace")
        .to_path_buf()
}

/// The file extensions a reference may name.
const SOURCE: [&str; 6] = ["rs", "sh", "py", "c", "toml", "md"];

/// A reference found in a page.
#[derive(Debug, PartialEq, Eq)]
enum Ref {
    /// `path` or `path#item`.
    Item(String, Option<String>),
    /// `path:LINE`, which is not allowed any more.
    Line(String),
}

fn path_like(path: &str) -> bool {
    // A path outside the workspace (`../shared/DESIGN.md`) is not a reference to its code.
    !path.starts_with("../")
        && !path.starts_with('/')
        && path.contains('/')
        && !path.contains(char::is_whitespace)
        && !path.contains(['{', '*', '<', '$'])
        && !path.contains("://")
        && (Path::new(path)
            .extension()
            .is_some_and(|e| SOURCE.iter().any(|s| e == *s))
            || path.starts_with("scripts/"))
}

/// The references in backticks in `text`.
fn references(text: &str) -> Vec<Ref> {
    let mut refs = Vec::new();
    for quoted in text.split('`').skip(1).step_by(2) {
        if let Some((path, line)) = quoted.rsplit_once(':')
            && path_like(path)
            && line.parse::<usize>().is_ok()
        {
            refs.push(Ref::Line(quoted.to_owned()));
            continue;
        }
        let (path, item) = match quoted.split_once('#') {
            Some((p, i)) => (p, Some(i.to_owned())),
            None => (quoted, None),
        };
        if path_like(path) {
            refs.push(Ref::Item(path.to_owned(), item));
        }
    }
    refs
}

/// Does `source` (the text of `path`) define `item`?
fn defines(path: &str, source: &str, item: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let ends_word = |rest: &str| rest.chars().next().is_none_or(|c| !ident(c));
    let keywords: &[&str] = match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("rs") => &[
            "fn ",
            "struct ",
            "enum ",
            "trait ",
            "const ",
            "static ",
            "type ",
            "mod ",
            "macro_rules! ",
            "union ",
        ],
        Some("py") => &["def ", "class "],
        Some("c") => &[" ", "*"],
        _ => &[""],
    };
    source.lines().any(|line| {
        keywords.iter().any(|k| {
            let needle = format!("{k}{item}");
            line.match_indices(&needle).any(|(at, _)| {
                let before_ok =
                    at == 0 || !k.is_empty() || !line[..at].chars().next_back().is_some_and(ident);
                let rest = &line[at + needle.len()..];
                before_ok
                    && ends_word(rest)
                    && match Path::new(path).extension().and_then(|e| e.to_str()) {
                        Some("rs" | "py") => true,
                        // A shell or C function: `name()` / `name(` at its definition.
                        _ => rest.trim_start().starts_with('('),
                    }
            })
        })
    })
}

#[test]
fn every_reference_in_the_guides_names_an_item_that_exists() {
    let root = root();
    let mut pages = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ exists");
    for entry in docs {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let (mut items, mut broken) = (0, Vec::new());
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a readable page");
        let shown = page.strip_prefix(&root).unwrap_or(page).display();
        for r in references(&text) {
            match r {
                Ref::Line(r) => broken.push(format!("{shown}: `{r}` points at a line number")),
                Ref::Item(path, None) if root.join(&path).is_dir() => {}
                Ref::Item(path, item) => {
                    let Ok(source) = std::fs::read_to_string(root.join(&path)) else {
                        broken.push(format!("{shown}: `{path}` is not a file"));
                        continue;
                    };
                    if let Some(item) = item {
                        items += 1;
                        if !defines(&path, &source, &item) {
                            broken.push(format!("{shown}: `{path}#{item}`: no such item"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "references to no code:\n{}",
        broken.join("\n")
    );
    assert!(
        items >= 30,
        "only {items} item references found: is the parser broken?"
    );
}

#[test]
fn the_parser_finds_references_and_only_them() {
    let text = "see `echo/src/server.rs#run` and `a.rs#x`, `x/y.rs:12`, `redis://h:6379`, \
                `redis-ops/tests/{lesson,cli}.rs`, `poetry/src/client.rs`, `scripts/services`, \
                `../shared/DESIGN.md`";
    assert_eq!(
        references(text),
        vec![
            Ref::Item("echo/src/server.rs".into(), Some("run".into())),
            Ref::Line("x/y.rs:12".into()),
            Ref::Item("poetry/src/client.rs".into(), None),
            Ref::Item("scripts/services".into(), None),
        ]
    );
}

#[test]
fn items_are_found_by_their_definition() {
    let rs = "pub async fn run(x: u8) {}\nstruct Stats;\nfn runner() {}\n";
    assert!(defines("a.rs", rs, "run"));
    assert!(defines("a.rs", rs, "Stats"));
    assert!(!defines("a.rs", rs, "run_"));
    assert!(!defines("a.rs", rs, "x"));
    assert!(defines("a.sh", "up() {\n  :\n}\n", "up"));
    assert!(!defines("a.sh", "echo up\n", "up"));
    assert!(defines("a.py", "def fib(n):\n", "fib"));
}
