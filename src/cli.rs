//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Chaos-testing harness for LLM gateways and clients.
#[derive(Debug, Parser)]
#[command(name = "chaos", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: start mocks and interposers, drive load through the phases, check the
    /// expectations, and write reports/<scenario>-<timestamp>/results.json.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Folder that receives the run's folder.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Check a scenario without running anything.
    Validate {
        /// The scenario file.
        file: PathBuf,
    },
}
