//! The inputs of the properties: library scenarios mutated, or arbitrary documents, each a
//! [`Case`] written into a [`Workspace`], a copy of `scenarios/`, beside the library file it
//! came from, so that the files a scenario names (a gateway's config template) are found.

use std::path::{Path, PathBuf};

use proptest::{prelude::*, sample::Index};

use super::{documents, mutations};
use crate::support::{root, scenario_files};

/// A file to check: its bytes and the folder of `scenarios/` it is checked in.
#[derive(Clone)]
pub struct Case {
    pub folder: PathBuf,
    pub bytes: Vec<u8>,
}

/// A failing case is shown as text (and its folder, when not the library's top).
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} in scenarios/{}", String::from_utf8_lossy(&self.bytes), self.folder.display())
    }
}

/// Every library scenario: its folder under `scenarios/` and its text.
pub fn library() -> Vec<(PathBuf, String)> {
    let scenarios = root().join("scenarios");
    scenario_files(&scenarios)
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable scenario");
            let folder =
                path.parent().and_then(|p| p.strip_prefix(&scenarios).ok()).expect("under scenarios/");
            (folder.to_owned(), text)
        })
        .collect()
}

/// A library scenario, mutated one to four times and sometimes truncated.
pub fn mutated_scenario() -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(library()),
        prop::collection::vec(mutations::mutation(), 1..5),
        proptest::option::weighted(0.15, any::<Index>()),
    )
        .prop_map(|((folder, text), edits, truncate)| Case {
            folder,
            bytes: mutations::apply(&text, &edits, truncate),
        })
}

/// An arbitrary document, checked at the library's top.
pub fn document() -> impl Strategy<Value = Case> {
    documents::document().prop_map(|text| Case { folder: PathBuf::new(), bytes: text.into_bytes() })
}

/// A temporary copy of `scenarios/` to write cases into.
pub struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let folder = tempfile::tempdir().expect("temp dir");
        copy_tree(&root().join("scenarios"), folder.path());
        Workspace { folder }
    }

    /// Writes `case` as `case.yaml` in its folder; returns the file's path.
    pub fn write(&self, case: &Case) -> PathBuf {
        let file = self.folder.path().join(&case.folder).join("case.yaml");
        std::fs::write(&file, &case.bytes).expect("a writable temporary file");
        file
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("a readable folder") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("a writable folder");
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("a copied file");
        }
    }
}
