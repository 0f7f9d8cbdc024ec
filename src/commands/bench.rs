//! `chaos bench`: measures the harness's own noise floor on this machine, prints it as a table
//! and writes it as JSON.

use std::{io::Write, path::Path};

use anyhow::Context;

use crate::{
    bench::{self, Profile},
    Exit,
};

/// Runs the full profile (or the quick one) and writes `out` (default
/// `reports/bench-<timestamp>.json`).
pub async fn bench(quick: bool, out: Option<&Path>) -> anyhow::Result<Exit> {
    let profile = if quick { Profile::Quick } else { Profile::Full };
    println!(
        "chaos bench: measuring the {profile:?} profile on this machine (child processes on 127.0.0.1) ..."
    );
    let _ = std::io::stdout().flush();
    let report = bench::run(profile).await?;
    print!("{}", bench::render_table(&report));
    let path = match out {
        Some(path) => path.to_owned(),
        None => Path::new("reports")
            .join(format!("bench-{}.json", crate::report::folder_stamp(time::OffsetDateTime::now_utc())?)),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("figures: {}", path.display());
    Ok(Exit::Pass)
}
