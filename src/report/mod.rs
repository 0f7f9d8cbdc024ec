//! What a run leaves behind: `results.json` (the contract every other output is rendered
//! from) and the verdict table printed to the terminal.

mod results;
mod table;

pub use results::{run_folder, Results, RunMeta, ScenarioInfo, UpstreamCounts, SCHEMA_VERSION};
pub use table::render_table;
