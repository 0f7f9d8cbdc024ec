//! The largest counts a scenario may name, in one table: sizes the harness holds in memory
//! (keys, burst requests, phases × upstreams, users, requests in flight) and numbers beyond which
//! a value can only be a typo. Each is checked where it is read, the error at its line and
//! column; `docs/scenarios.md` lists them with their reasons. (Token counts are bounded by the
//! providers' own limits, `crate::wire::tokens`; rates and durations by their units.)

/// API keys of one mock upstream (`keys: N`), and keys in a target's pool (`keys_env`,
/// `keys_file`): each gets its own figures in the results and the report.
pub const KEYS: u32 = 1_000;
/// Closed-model `users`, and `requests` in one burst: each is a task or a start held at once.
pub const AT_ONCE: u32 = 100_000;
/// `requests` over all bursts together: each burst start is held from the first instant.
pub const BURST_REQUESTS: u64 = 1_000_000;
/// `max_in_flight` and `connections`: each request in flight holds a socket.
pub const IN_FLIGHT: u64 = 100_000;
/// Phases: every phase holds a fault chain for every upstream.
pub const PHASES: usize = 1_000;
/// Upstreams: each is a mock and an interposer, with a chain in every phase.
pub const UPSTREAMS: usize = 100;
/// Values (mappings, lists, scalars) in a scenario's YAML, counting each alias as the values it
/// repeats: a billion laughs stops here. The largest library scenario holds about 150.
pub const YAML_NODES: usize = 50_000;
/// Text in a scenario's YAML, counting each alias as the text it repeats: four times the
/// largest file, so a flood of aliases to one long string stops here.
pub const YAML_TEXT_BYTES: usize = 16 << 20;
/// `tools` a request offers and `agent_steps` one task makes: each step's body carries every
/// earlier step's call and result, so a task's bodies grow with the square of its steps.
pub const TOOLS: u32 = 16;
/// See [`TOOLS`].
pub const AGENT_STEPS: u32 = 16;
/// A mock's `tokens_per_second`: from one an hour to a million a second, the same bounds as
/// the load's rates (`crate::units::MIN_RATE`, `MAX_RATE`).
pub const TOKENS_PER_SECOND: std::ops::RangeInclusive<f64> = crate::units::MIN_RATE..=crate::units::MAX_RATE;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The error `yaml` gives, as `file:line:column: message` (first line).
    fn refusal(yaml: &str, folder: &Path) -> String {
        let error = crate::parse(yaml, &folder.join("s.yaml")).expect_err("refused").to_string();
        let first = error.lines().next().unwrap_or_default();
        first.rsplit_once("s.yaml:").map_or(first, |(_, rest)| rest).to_owned()
    }

    fn scenario(upstreams: &str, target: &str, phases: &str) -> String {
        format!(
            "name: s\nupstreams:\n{upstreams}{target}load: {{ arrival: {{ rate: 1/s }}, request: {{ model: m }} }}\nphases:\n{phases}"
        )
    }

    #[test]
    fn more_phases_or_upstreams_than_the_most_are_refused_at_their_list() {
        let folder = Path::new(".");
        let one = "  openai: { mock: openai }\n";
        let many_phases: String =
            (0..=PHASES).map(|i| format!("  - {{ name: p{i}, duration: 1s }}\n")).collect();
        assert_eq!(
            refusal(&scenario(one, "", &many_phases), folder),
            "6:3: 1001 phases; a scenario may have at most 1000"
        );
        let many_upstreams: String =
            (0..=UPSTREAMS).map(|i| format!("  u{i}: {{ mock: openai }}\n")).collect();
        let phase = "  - { name: a, duration: 1s }\n";
        assert_eq!(
            refusal(&scenario(&many_upstreams, "", phase), folder),
            "3:3: 101 upstreams; a scenario may name at most 100"
        );
        let (phases, upstreams) = (
            many_phases.lines().take(PHASES).collect::<Vec<_>>().join("\n"),
            many_upstreams.lines().take(UPSTREAMS).collect::<Vec<_>>().join("\n") + "\n",
        );
        assert!(
            crate::parse(&scenario(&upstreams, "", &phases), &folder.join("s.yaml")).is_ok(),
            "at the most"
        );
    }

    #[test]
    fn a_key_pool_larger_than_the_most_is_refused_at_its_file() {
        let folder = tempfile::tempdir().unwrap();
        let keys: String = (0..=KEYS).map(|i| format!("sk-test-{i}\n")).collect();
        std::fs::write(folder.path().join("keys.txt"), keys).unwrap();
        let target = "target: { url: \"http://127.0.0.1:9\", keys_file: keys.txt }\n";
        let yaml = scenario("  openai: { mock: openai }\n", target, "  - { name: a, duration: 1s }\n");
        assert_eq!(
            refusal(&yaml, folder.path()),
            "4:49: the key pool holds 1001 keys; the most allowed is 1000"
        );
    }
}
