//! The guides point at code by path and line (`echo/src/server.rs:157`): every such reference in
//! README.md and docs/*.md must name a file of the workspace and a line of it that is not blank.
//! (A reference can still drift to another non-blank line when code moves: this catches the
//! deleted, renamed and shortened files.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("common/ is inside the workspace")
        .to_path_buf()
}

/// The `path.rs:LINE` references in backticks in `text`.
fn references(text: &str) -> Vec<(String, usize)> {
    let mut refs = Vec::new();
    for quoted in text.split('`').skip(1).step_by(2) {
        let Some((path, line)) = quoted.rsplit_once(':') else {
            continue;
        };
        let path_like = Path::new(path).extension().is_some_and(|e| e == "rs")
            && path.contains('/')
            && !path.contains(char::is_whitespace)
            && !path.contains('{');
        if let (true, Ok(line)) = (path_like, line.parse::<usize>()) {
            refs.push((path.to_owned(), line));
        }
    }
    refs
}

#[test]
fn every_path_and_line_in_the_guides_exists() {
    let root = root();
    let mut pages = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).expect("docs/ exists");
    for entry in docs {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let (mut checked, mut broken) = (0, Vec::new());
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a readable page");
        for (path, line) in references(&text) {
            checked += 1;
            let source = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            let target = line.checked_sub(1).and_then(|i| source.lines().nth(i));
            if target.is_none_or(|l| l.trim().is_empty()) {
                broken.push(format!(
                    "{}: `{path}:{line}`",
                    page.strip_prefix(&root).unwrap_or(page).display()
                ));
            }
        }
    }
    assert!(
        checked >= 50,
        "only {checked} references found: is the parser broken?"
    );
    assert!(
        broken.is_empty(),
        "references to no line of code:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_parser_finds_references_and_only_them() {
    let text = "see `echo/src/server.rs:157` and `a.rs:3`, `x/y.rs:abc`, `redis://h:6379`, \
                `redis-ops/tests/{lesson,cli}.rs:1`, `poetry/src/client.rs:99`";
    assert_eq!(
        references(text),
        vec![
            ("echo/src/server.rs".to_owned(), 157),
            ("poetry/src/client.rs".to_owned(), 99)
        ]
    );
}
