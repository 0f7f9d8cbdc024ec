//! The floors of `src/` (ARCHITECTURE.md), held by a test until they are crates: every `crate::`
//! path in a top-level module's code names a module on a lower floor. Unit tests
//! (`#[cfg(test)] mod tests`) and `src/test_support.rs` are left out: test code may reach up.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Each top-level module of `src/` and its floor, bottom first. A module imports only from lower
/// floors; modules that share one never import each other.
const FLOORS: &[(&str, u32)] = &[
    // Vocabulary: units, the time scale, wire formats, the loopback rule, errors at a line and
    // column.
    ("units", 0),
    ("located", 0),
    ("speed", 0),
    ("wire", 0),
    ("loopback", 0),
    // Records and the clock; provider rules.
    ("metrics", 1),
    ("ratelimit", 1),
    // The results contract: the types of results.json, owned or named here.
    ("results", 2),
    // Faults as pure decisions.
    ("fault", 3),
    // The plan.
    ("scenario", 4),
    // The runtime that plays it.
    ("net", 5),
    ("mock", 6),
    ("proxy", 7),
    ("load", 8),
    ("target", 9),
    // Measurement, the settled results, then output.
    ("analysis", 10),
    ("assert", 11),
    ("settle", 12),
    ("report", 13),
    ("merge", 14),
    ("scorecard", 14),
    // Orchestration, then the binary.
    ("ops", 15),
    ("monitor", 16),
    ("runner", 17),
    ("bench", 18),
    ("suite", 18),
    ("cli", 19),
    ("exit", 19),
    ("commands", 20),
];

/// Upward imports that still exist and are being removed: none. An edge listed here that is gone
/// fails the test too, so this list can only shrink.
const KNOWN_UPWARD: &[(&str, &str)] = &[];

/// One `crate::` path in a module's code.
#[derive(Debug)]
struct Import {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
    path: String,
}

fn floor(module: &str) -> u32 {
    FLOORS.iter().find(|(name, _)| *name == module).map(|(_, floor)| *floor).unwrap_or_else(|| {
        panic!("module {module} has no floor: add it to FLOORS here and to ARCHITECTURE.md")
    })
}

/// The source folders of the workspace: the binary's crate and each crate of `crates/`, with
/// the one module a whole crate is (`chaos-fault` is `fault`) or `None` where each top-level
/// module of the crate is its own.
fn source_roots() -> Vec<(PathBuf, Option<&'static str>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![(root.join("src"), None)];
    for (name, whole) in [
        ("chaos-core", None),
        ("chaos-fault", Some("fault")),
        ("chaos-scenario", Some("scenario")),
        ("chaos-runtime", None),
        ("chaos-measure", None),
        ("chaos-report", None),
    ] {
        roots.push((root.join("crates").join(name).join("src"), whole));
    }
    roots
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// A source file, the module it belongs to, and whether its crate is that one module (so a
/// `crate::` path that names no module is the crate's own item).
struct SourceFile {
    path: PathBuf,
    module: String,
    whole_crate: bool,
}

/// Every source file with the module it belongs to; the crate roots of crates of several
/// modules, and the test fixtures, belong to none.
fn files_by_module() -> Vec<SourceFile> {
    let mut found = Vec::new();
    for (root, whole) in source_roots() {
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        for file in files {
            let first = file.strip_prefix(&root).ok().and_then(|p| p.components().next());
            let first = first.and_then(|c| c.as_os_str().to_str()).unwrap_or_default();
            let name = first.strip_suffix(".rs").unwrap_or(first).to_owned();
            if ["main", "test_support", "testing"].contains(&name.as_str()) {
                continue;
            }
            match whole {
                Some(module) => {
                    found.push(SourceFile { path: file, module: module.to_owned(), whole_crate: true })
                }
                None if name != "lib" => {
                    found.push(SourceFile { path: file, module: name, whole_crate: false })
                }
                None => {}
            }
        }
    }
    found
}

/// A line without its `//` comment (a `//` inside a string literal stays).
fn without_comment(line: &str) -> &str {
    let (mut in_string, mut escaped) = (false, false);
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' if !line[..at].ends_with('\'') => in_string = !in_string,
            '/' if !in_string && line[at + 1..].starts_with('/') => return &line[..at],
            _ => {}
        }
    }
    line
}

/// The code of a file up to its `#[cfg(test)] mod tests`, comments removed, line by line.
fn non_test_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let tests = lines.windows(2).position(|pair| {
        pair[0].trim() == "#[cfg(test)]"
            && pair[1].trim_start().starts_with("mod ")
            && pair[1].trim_end().ends_with('{')
    });
    lines[..tests.unwrap_or(lines.len())].iter().map(|line| without_comment(line)).collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path after `crate::` in `code`, a `crate::{a, b::{c}}` group giving one path per item,
/// with the byte offset it starts at.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(is_ident) {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        let Some(group) = rest.strip_prefix('{') else {
            let end = rest.find(|c: char| !is_ident(c) && c != ':').unwrap_or(rest.len());
            paths.push((at, rest[..end].trim_end_matches(':').to_owned()));
            continue;
        };
        let (mut depth, mut item) = (0, String::new());
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    paths.push((at, std::mem::take(&mut item)));
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        paths.push((at, item));
    }
    paths.retain(|(_, path)| !path.trim().is_empty());
    paths.into_iter().map(|(at, path)| (at, path.split_whitespace().collect())).collect()
}

/// What `src/lib.rs` re-exports at the crate root (`pub use exit::Exit;`): item → its module.
fn root_reexports() -> BTreeMap<String, String> {
    let lib =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("src/lib.rs");
    let mut items = BTreeMap::new();
    // `pub use chaos_core::{…}` and `pub use chaos_fault as fault` re-export whole floors.
    let items_of_modules = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub use "))
        .filter(|line| !line.starts_with("chaos_"));
    for line in items_of_modules {
        let (module, names) = line.trim_end_matches(';').split_once("::").expect("pub use module::item");
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            items.insert(name.trim().to_owned(), module.to_owned());
        }
    }
    items
}

/// Every import of one top-level module from another, in non-test code.
fn imports() -> Vec<Import> {
    let files = files_by_module();
    let modules: BTreeSet<String> = files.iter().map(|source| source.module.clone()).collect();
    let reexports = root_reexports();
    let mut imports = Vec::new();
    for SourceFile { path: file, module: from, whole_crate } in files {
        let text = fs::read_to_string(&file).expect("a readable source file");
        let code = non_test_lines(&text).join("\n");
        for (at, path) in crate_paths(&code) {
            let first = path.split("::").next().unwrap_or_default().to_owned();
            let to = if modules.contains(&first) {
                first
            } else if whole_crate {
                continue; // an item of the crate's own, which is one module
            } else {
                reexports
                    .get(&first)
                    .cloned()
                    .unwrap_or_else(|| panic!("{}: `crate::{path}` names no module", file.display()))
            };
            if to != from {
                let line = code[..at].matches('\n').count() + 1;
                imports.push(Import { from: from.clone(), to, file: file.clone(), line, path });
            }
        }
    }
    imports
}

fn is_upward(import: &Import) -> bool {
    floor(&import.to) >= floor(&import.from)
}

#[test]
fn every_module_of_src_has_a_floor_and_every_floor_a_module() {
    let modules: BTreeSet<String> = files_by_module().into_iter().map(|source| source.module).collect();
    for module in &modules {
        floor(module);
    }
    let stale: Vec<&str> = FLOORS.iter().map(|(name, _)| *name).filter(|n| !modules.contains(*n)).collect();
    assert!(stale.is_empty(), "FLOORS names modules src/ does not have: {stale:?}");
}

#[test]
fn every_import_goes_down_the_floors() {
    let upward: Vec<String> = imports()
        .iter()
        .filter(|import| {
            is_upward(import) && !KNOWN_UPWARD.contains(&(import.from.as_str(), import.to.as_str()))
        })
        .map(|i| {
            format!(
                "{}:{}: {} (floor {}) imports crate::{} (floor {})",
                i.file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&i.file).display(),
                i.line,
                i.from,
                floor(&i.from),
                i.path,
                floor(&i.to)
            )
        })
        .collect();
    assert!(upward.is_empty(), "imports that go up the floors (see ARCHITECTURE.md):\n{}", upward.join("\n"));
}

#[test]
fn every_known_upward_import_still_exists() {
    let imports = imports();
    for (from, to) in KNOWN_UPWARD {
        assert!(
            imports.iter().any(|i| (i.from.as_str(), i.to.as_str()) == (*from, *to) && is_upward(i)),
            "{from} -> {to} no longer goes up: remove it from KNOWN_UPWARD"
        );
    }
}

#[test]
fn paths_are_read_from_groups_inline_uses_and_past_comments() {
    let code = "use crate::{a::B, c::{d, e}};\nlet x = crate::f::g(\"//\"); // crate::h\nuse other_crate::i;";
    let code: Vec<&str> = non_test_lines(code);
    let paths: Vec<String> = crate_paths(&code.join("\n")).into_iter().map(|(_, p)| p).collect();
    assert_eq!(paths, ["a::B", "c::{d,e}", "f::g"]);
    let with_tests = "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\n";
    assert_eq!(non_test_lines(with_tests), ["use crate::a;"]);
}

/// The crates of the workspace, bottom first: each may depend only on crates before it.
const CRATES: [&str; 6] =
    ["chaos-core", "chaos-fault", "chaos-scenario", "chaos-runtime", "chaos-measure", "chaos-report"];

/// The `chaos-*` crates a manifest's `[dependencies]` (not its dev-dependencies) name.
fn crate_dependencies(manifest: &str) -> Vec<String> {
    let mut section = "";
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" && line.starts_with("chaos-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            found.push(name.to_owned());
        }
    }
    found
}

#[test]
fn every_crate_depends_only_on_the_crates_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut upward = Vec::new();
    for (index, name) in CRATES.iter().enumerate() {
        let manifest = fs::read_to_string(root.join("crates").join(name).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("crates/{name}/Cargo.toml: {e}"));
        for dependency in crate_dependencies(&manifest) {
            let below = CRATES.iter().position(|c| *c == dependency).is_some_and(|at| at < index);
            if !below {
                upward.push(format!("{name} depends on {dependency}"));
            }
        }
    }
    assert!(upward.is_empty(), "crate dependencies that go up (see ARCHITECTURE.md): {upward:?}");
    let on_disk: BTreeSet<String> = fs::read_dir(root.join("crates"))
        .expect("crates/")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(on_disk, CRATES.iter().map(|c| c.to_string()).collect(), "a crate with no place in CRATES");
    let parsed = crate_dependencies(
        "[dependencies]\nchaos-core.workspace = true\nserde = \"1\"\n[dev-dependencies]\nchaos-report = {}",
    );
    assert_eq!(parsed, ["chaos-core"]);
}
