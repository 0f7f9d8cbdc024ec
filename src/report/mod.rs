//! What a run leaves behind: `results.json` (the contract every other output is rendered
//! from, and read back by `chaos report`), and its renderings: `junit.xml`, `summary.md` and
//! the verdict table printed to the terminal, sharing one way of showing a figure (`cells.rs`);
//! `report.html` for people (`html/`); the JSON Schema of `results.json` (`schema.rs`); where
//! the run ran (`environment.rs`); several runs' results merged into one (`merge/`).

pub(crate) mod cells;
mod environment;
pub mod html;
mod junit;
pub mod merge;
mod read;
mod results;
mod schema;
mod summary;
mod table;

pub use environment::Environment;
pub use html::render_html;
pub use junit::render_junit;
pub use read::ResultsFileError;
pub use results::{folder_stamp, run_folder, Results, RunMeta, ScenarioInfo, UpstreamCounts, SCHEMA_VERSION};
pub use schema::{results_schema, results_schema_file};
pub use summary::render_summary;
pub use table::render_table;
