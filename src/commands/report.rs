//! `chaos report`: renders `junit.xml`, `summary.md` and `report.html` again from a run's `results.json`,
//! without running anything.

use std::path::Path;

use crate::{report, results::Results, Exit};

/// Reads `file` and writes its renderings into `out` (default: beside it). A file that cannot
/// be read as results is the user's to fix: exit 2, naming it.
pub fn report(file: &Path, out: Option<&Path>) -> anyhow::Result<Exit> {
    let results = match Results::read(file) {
        Ok(results) => results,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(Exit::InvalidScenario);
        }
    };
    let beside = file.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    for path in report::write_renderings(&results, out.unwrap_or(beside))? {
        println!("wrote {}", path.display());
    }
    Ok(Exit::Pass)
}
