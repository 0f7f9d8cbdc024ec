//! The `chaos` binary: parses arguments and hands them to [`chaos::run`].
//!
//! It allocates with jemalloc: under glibc's malloc the memory of each transient peak (a burst
//! of requests in flight, a table growing) stayed with the worker thread's arena, so a long run's
//! RSS crept up in steps while its live heap stayed flat; jemalloc hands freed pages back after a
//! few seconds (BENCHMARKS.md, "Harness memory over 30 minutes"). The library, and so the tests,
//! keep the system allocator.

use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .init();
    let cli = chaos::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return chaos::Exit::HarnessError.into();
        }
    };
    match runtime.block_on(chaos::run(cli)) {
        Ok(exit) => exit.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            chaos::Exit::HarnessError.into()
        }
    }
}

/// Whether log lines on stderr may carry colour: only to a terminal, and not when `NO_COLOR` is
/// set to anything (no-color.org).
fn colour_on_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
