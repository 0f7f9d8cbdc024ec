//! How many concurrent streams one mock process holds on time: `chaos bench`'s stream
//! measurement ([`chaos::bench::streams`]) at any load, with the mock optionally pinned to a
//! core so the measuring client does not compete with it.
//!
//! `cargo bench --bench mock_streams -- [streams] [tokens_per_second] [tokens_per_stream]`
//! (defaults: 2000 50 100). The error is measured by a client on the same machine, so it
//! includes the client's own scheduling noise: an upper bound on the mock's. To keep the two
//! apart on a 2-core machine: `MOCK_CPU=0 taskset -c 1 target/release/deps/mock_streams-…`.

use chaos::bench::streams::{measure_with, StreamLoad};

fn arg(index: usize, default: u32) -> u32 {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let load = StreamLoad { streams: arg(1, 2000), tokens_per_second: arg(2, 50), tokens: arg(3, 100) };
    // CHAOS_BIN=path runs another chaos executable (or a wrapper that adds options) as the mock.
    let chaos = std::env::var("CHAOS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_chaos").to_owned());
    // MOCK_CPU=0 pins the mock to core 0 (`taskset`).
    let command = match std::env::var("MOCK_CPU") {
        Ok(cpu) => vec!["taskset".to_owned(), "-c".to_owned(), cpu, chaos],
        Err(_) => vec![chaos],
    };
    // One worker for the measuring client, as before: it competes with the mock for the cores.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let figures = runtime.block_on(measure_with(&command, load))?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}
