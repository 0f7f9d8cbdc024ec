//! The documents a newcomer reads: the README stays a front door (at most 300 lines, the run
//! command and `cargo test` in its first code blocks), every relative link in the docs resolves
//! to a file in the repository, and no document points outside it. Plain file reads: no build
//! of anything, no network.

use std::path::{Path, PathBuf};

use crate::support::root;

/// The README's length limit: a front door, the manual lives in `docs/`.
const README_MAX_LINES: usize = 300;

/// The command that runs a real scenario on built-in defaults.
const RUN_COMMAND: &str = "cargo run --release -- run scenarios/brownout.yaml";

/// Text that points outside the repository: a sibling folder, or this machine's paths.
const OUTSIDE: [&str; 2] = ["../shared", "/work/"];

/// The documents whose links are checked: the top-level ones and the manual.
fn linked_documents(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        ["README.md", "CONTRIBUTING.md", "ARCHITECTURE.md", "BENCHMARKS.md", "CHANGELOG.md"]
            .iter()
            .map(|name| root.join(name))
            .filter(|path| path.is_file() || !path.ends_with("ARCHITECTURE.md"))
            .collect();
    let docs = root.join("docs");
    for entry in std::fs::read_dir(&docs).expect("a docs/ folder") {
        let path = entry.expect("a readable entry").path();
        if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every `.md` in the repository, outside `target/` and hidden or dependency folders.
fn all_documents(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("a readable entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                all_documents(&path, found);
            }
        } else if name.ends_with(".md") {
            found.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bodies of the fenced code blocks (```` ``` ````), in order.
fn fenced_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => open = Some(String::new()),
            (Some(_), true) => blocks.extend(open.take()),
            (Some(body), false) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

/// The prose of a Markdown text: fenced blocks and inline code spans left out, so a link shown
/// as code is not taken for one.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            // Even pieces between backticks are outside code spans.
            out.extend(line.split('`').step_by(2));
            out.push('\n');
        }
    }
    out
}

/// The targets of inline links `[text](target)` and reference definitions `[label]: target`.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut targets = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = rest[..end].split_whitespace().next().unwrap_or_default();
        targets.push(target.trim_start_matches('<').trim_end_matches('>').to_owned());
    }
    for line in prose.lines() {
        let line = line.trim_start();
        if let Some(close) = line.strip_prefix('[').and_then(|l| l.find("]:")) {
            let target = line[close + 3..].split_whitespace().next().unwrap_or_default();
            targets.push(target.to_owned());
        }
    }
    targets
}

/// The file a relative link names, without its `#anchor`; `None` for web links and anchors
/// within the same page.
fn relative_path(target: &str) -> Option<&str> {
    let path = target.split('#').next().unwrap_or_default();
    let external = ["http://", "https://", "mailto:"].iter().any(|scheme| target.starts_with(scheme));
    (!external && !path.is_empty()).then_some(path)
}

#[test]
fn the_readme_is_a_front_door_with_the_two_commands_first() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines; the manual belongs in docs/");
    let blocks = fenced_blocks(&readme);
    assert!(blocks.len() >= 2, "README.md needs the two commands in code blocks");
    assert!(blocks[0].contains(RUN_COMMAND), "README.md's first code block must be `{RUN_COMMAND}`");
    assert!(blocks[1].contains("cargo test"), "README.md's second code block must be `cargo test`");
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let root = root();
    let canonical_root = root.canonicalize().expect("the repository's root");
    let mut broken = Vec::new();
    for doc in linked_documents(&root) {
        assert!(doc.is_file(), "{} is missing", doc.display());
        let folder = doc.parent().expect("a document's folder");
        for target in link_targets(&read(&doc)) {
            let Some(path) = relative_path(&target) else { continue };
            let inside = folder.join(path).canonicalize().is_ok_and(|p| p.starts_with(&canonical_root));
            if !inside {
                broken.push(format!("{}: ({target})", doc.strip_prefix(&root).unwrap_or(&doc).display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links that do not resolve to a file in the repository:\n{}",
        broken.join("\n")
    );
}

/// The repository paths a text names in backticks (`src/...`, `tests/...`, ...), with one
/// `{a,b}` group spelt out; placeholders (`<family>`) and globs are left out.
fn named_paths(text: &str) -> Vec<String> {
    const ROOTS: [&str; 7] = ["src/", "crates/", "tests/", "benches/", "scripts/", "schemas/", "scenarios/"];
    let mut paths = Vec::new();
    for (index, quoted) in text.split('`').enumerate() {
        let path = quoted.split([':', '#', ' ']).next().unwrap_or_default();
        let named = index % 2 == 1 && ROOTS.iter().any(|root| path.starts_with(root));
        if !named || path.contains(['<', '*']) {
            continue;
        }
        match path.split_once('{').and_then(|(head, rest)| Some((head, rest.split_once('}')?))) {
            Some((head, (choices, tail))) => {
                paths.extend(choices.split(',').map(|choice| format!("{head}{choice}{tail}")));
            }
            None => paths.push(path.to_owned()),
        }
    }
    paths
}

#[test]
fn every_file_the_docs_name_exists() {
    let root = root();
    let mut missing = Vec::new();
    for doc in linked_documents(&root) {
        for path in named_paths(&read(&doc)) {
            if !root.join(path.trim_end_matches('/')).exists() {
                missing.push(format!("{}: `{path}`", doc.strip_prefix(&root).unwrap_or(&doc).display()));
            }
        }
    }
    assert!(missing.is_empty(), "files the docs name that do not exist:\n{}", missing.join("\n"));
    let spelt = named_paths("see `src/fault/{cut,stall}.rs:12` and `src/mock/<family>.rs`, not src/x.rs");
    assert_eq!(spelt, ["src/fault/cut.rs", "src/fault/stall.rs"]);
}

#[test]
fn no_document_points_outside_the_repository() {
    let root = root();
    let mut documents = Vec::new();
    all_documents(&root, &mut documents);
    assert!(documents.iter().any(|d| d.ends_with("README.md")), "the walk found no README.md");
    let mut found = Vec::new();
    for doc in documents {
        for (number, line) in read(&doc).lines().enumerate() {
            if OUTSIDE.iter().any(|outside| line.contains(outside)) {
                let name = doc.strip_prefix(&root).unwrap_or(&doc).display().to_string();
                found.push(format!("{name}:{}: {line}", number + 1));
            }
        }
    }
    assert!(found.is_empty(), "documents pointing outside the repository:\n{}", found.join("\n"));
}

/// The checker itself: it sees inline and reference links, skips code and web links, and
/// strips anchors, so the tests above cannot pass by finding nothing.
#[test]
fn the_link_reader_finds_links_and_skips_code() {
    let text = "See [a](docs/a.md#top) and [b](b.md \"title\"), not `[c](code.md)`.\n\
                ```\n[d](fenced.md)\n```\n[e]: ../e.md\n[web](https://example.com) [here](#anchor)\n";
    let targets = link_targets(text);
    assert_eq!(targets, ["docs/a.md#top", "b.md", "https://example.com", "#anchor", "../e.md"]);
    let paths: Vec<_> = targets.iter().filter_map(|t| relative_path(t)).collect();
    assert_eq!(paths, ["docs/a.md", "b.md", "../e.md"]);
}
