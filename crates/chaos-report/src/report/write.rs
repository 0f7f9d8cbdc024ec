//! Writing a run's files: `results.json` and its renderings beside it, in a run folder named
//! after the scenario and the time.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::results::Results;

/// Writes `results.json` into `folder`, with its renderings next to it, and returns its path.
pub fn write(results: &Results, folder: &Path) -> anyhow::Result<PathBuf> {
    let path = write_file(folder, "results.json", serde_json::to_vec_pretty(results)?)?;
    write_renderings(results, folder)?;
    Ok(path)
}

/// Writes what is rendered from the results alone, `junit.xml`, `summary.md` and
/// `report.html`, into `folder` and returns their paths.
pub fn write_renderings(results: &Results, folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let renderings = [
        ("junit.xml", super::render_junit(results)),
        ("summary.md", super::render_summary(results)),
        ("report.html", super::render_html(results)),
    ];
    renderings.into_iter().map(|(name, text)| write_file(folder, name, text.into_bytes())).collect()
}

/// Writes `folder/name` (creating the folder) and returns its path.
fn write_file(folder: &Path, name: &str, bytes: Vec<u8>) -> anyhow::Result<PathBuf> {
    let path = folder.join(name);
    std::fs::create_dir_all(folder)
        .and_then(|()| std::fs::write(&path, bytes))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A run folder's timestamp: `20250102T030405Z`.
pub fn folder_stamp(at: time::OffsetDateTime) -> anyhow::Result<String> {
    Ok(at.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))?)
}

/// A new folder `<root>/<scenario>-<timestamp>` (suffixed if it already exists).
pub fn run_folder(root: &Path, scenario: &str, stamp: &str) -> PathBuf {
    let safe: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let base = root.join(format!("{safe}-{stamp}"));
    let mut folder = base.clone();
    let mut n = 2;
    while folder.exists() {
        folder = PathBuf::from(format!("{}-{n}", base.display()));
        n += 1;
    }
    folder
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_read_back_render_the_same() {
        let results = crate::test_support::results();
        let folder = tempfile::tempdir().expect("temp dir");
        let path = super::write(&results, folder.path()).expect("written");
        let back = crate::results::Results::read(&path).expect("read back");
        assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&results).unwrap());
        assert_eq!(super::super::render_junit(&back), super::super::render_junit(&results));
        assert_eq!(super::super::render_summary(&back), super::super::render_summary(&results));
    }
}
