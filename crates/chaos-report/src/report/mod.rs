//! Renderings of the results contract ([`crate::results`]), and nothing else: each takes a
//! [`Results`](crate::results::Results) — read back from `results.json` or just settled by a
//! run — and renders it: `junit.xml`, `summary.md` and the verdict table printed to the
//! terminal, sharing one way of showing a figure (`cells.rs`); `report.html` for people
//! (`html/`). `write.rs` writes the file and its renderings into a run's folder.

pub mod cells;
pub mod html;
mod junit;
mod summary;
mod table;
mod write;

pub use html::render_html;
pub use junit::render_junit;
pub use summary::render_summary;
pub use table::render_table;
pub use write::{folder_stamp, run_folder, write, write_renderings};
