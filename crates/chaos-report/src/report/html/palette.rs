//! The report's colours, chosen once: outcomes and statuses by meaning (green served, amber
//! throttled, red failed), upstreams by hue so a fallback shows as a change of colour, and the
//! percentile lines darker the further out in the tail they are.

/// Percentile lines.
pub const P50: &str = "#1f77b4";
pub const P99: &str = "#d62728";
pub const MAX: &str = "#7f7f7f";
/// The uncorrected latency, beside the corrected one.
pub const UNCORRECTED: &str = "#ff7f0e";
pub const COST: &str = "#2ca02c";

/// Hues for upstreams' successes, in the scenario's order.
const UPSTREAM_HUES: [&str; 6] = ["#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#558b2f", "#4527a0"];

/// Phases' lines on the spectrum.
const PHASES: [&str; 8] =
    ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/// A logical request's outcome (`ok`, `http_429`, `timeout`, …).
pub fn outcome(key: &str) -> &'static str {
    match key {
        "ok" => "#2e7d32",
        "http_429" => "#f9a825",
        "http_529" => "#ef6c00",
        "timeout" => "#6a1b9a",
        "connection_error" => "#4e342e",
        "stream_cut" => "#ad1457",
        "unfinished" => "#9e9e9e",
        key if key.starts_with("http_5") => "#c62828",
        _ => "#e57373",
    }
}

/// Attempts at upstream `index` that ended with `status`; injected failures are lighter than
/// the upstream's own.
pub fn attempt(index: usize, status: &str, injected: bool) -> &'static str {
    if status.starts_with('2') {
        return UPSTREAM_HUES[index % UPSTREAM_HUES.len()];
    }
    match (status, injected) {
        ("429", true) => "#ffca28",
        ("429", false) => "#f57f17",
        ("529", _) => "#ef6c00",
        (status, true) if status.starts_with('5') => "#ef9a9a",
        (status, false) if status.starts_with('5') => "#b71c1c",
        ("cancelled", _) => "#bdbdbd",
        (_, true) => "#ce93d8",
        (_, false) => "#6d4c41",
    }
}

/// The `index`th phase.
pub fn phase(index: usize) -> &'static str {
    PHASES[index % PHASES.len()]
}
