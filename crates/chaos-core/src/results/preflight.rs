//! What the preflight found: the probe requests sent through a gateway target before the clock
//! started, and whether each reached an interposer (a target that goes around them is never
//! measured: the run stops before it starts).

use serde::{Deserialize, Serialize};

/// The preflight of a `url` or `command` target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Preflight {
    /// Probe requests sent through the target.
    pub probes: u64,
    /// Of those, the ones an interposer saw.
    pub reached: u64,
    /// The upstreams whose interposers saw them, by name, in the scenario's order.
    pub reached_upstreams: Vec<String>,
    /// Whether the probes arrived carrying their correlation id (`x-chaos-request-id`). When
    /// not, the target drops it: each attempt counts in the phase it arrived in, and retries
    /// cannot be joined to their requests.
    pub ids_forwarded: bool,
    /// Seconds it took, before the clock started.
    pub took_s: f64,
}

impl Preflight {
    /// What it found, in a sentence: `3/3 probes through the target reached the interposers
    /// (`openai`) in 0.04 s`.
    pub fn describe(&self) -> String {
        if !self.ids_forwarded {
            return format!(
                "{} probes through the target reached the interposers without their correlation id: the \
                 target drops `x-chaos-request-id`, so each attempt counts in the phase it arrives in and \
                 retries cannot be joined to their requests",
                self.probes
            );
        }
        let names: Vec<String> = self.reached_upstreams.iter().map(|name| format!("`{name}`")).collect();
        format!(
            "{}/{} probes through the target reached the interposers ({}) in {:.2} s",
            self.reached,
            self.probes,
            names.join(", "),
            self.took_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_where_the_probes_went_or_that_their_ids_were_dropped() {
        let mut preflight = Preflight {
            probes: 3,
            reached: 3,
            reached_upstreams: vec!["openai".into()],
            ids_forwarded: true,
            took_s: 0.042,
        };
        assert_eq!(
            preflight.describe(),
            "3/3 probes through the target reached the interposers (`openai`) in 0.04 s"
        );
        preflight.ids_forwarded = false;
        assert!(preflight.describe().contains("drops `x-chaos-request-id`"), "{}", preflight.describe());
    }
}
