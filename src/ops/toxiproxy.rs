//! The toxiproxy-compatible subset of the control API: toxiproxy's toxic JSON mapped onto the
//! scenario's fault syntax, so existing toxiproxy clients can drive a run.
//!
//! | toxic | attributes | becomes |
//! |---|---|---|
//! | `latency` | `latency` ms, `jitter` ms | `latency: Nms`, or `{ uniform: [latency−jitter, latency+jitter] }` |
//! | `timeout` | `timeout` ms (0: for good) | `hang: Nms` / `hang: forever` |
//! | `reset_peer` | `timeout` 0 only | `reset: true` |
//! | `bandwidth` | `rate` KB/s (> 0), `downstream` only | `bandwidth: NKB/s` |
//!
//! `toxicity` (0 to 1, default 1) becomes `probability`; `stream` defaults to `downstream`, and
//! `upstream` is accepted where the effect on an HTTP exchange is the same (latency, timeout,
//! reset). Any other type, attribute or value is refused with a 400 that says why.

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A toxic as toxiproxy clients send it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toxic {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub stream: Option<String>,
    pub toxicity: Option<f64>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Toxic {
    fn stream(&self) -> &str {
        self.stream.as_deref().unwrap_or("downstream")
    }

    /// Its name: as given, or toxiproxy's default `<type>_<stream>`.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("{}_{}", self.kind, self.stream()))
    }

    /// How toxiproxy shows it back, defaults filled in.
    pub fn shown(&self) -> Value {
        json!({
            "name": self.name(),
            "type": self.kind,
            "stream": self.stream(),
            "toxicity": self.toxicity.unwrap_or(1.0),
            "attributes": self.attributes,
        })
    }

    /// The fault, in the scenario's syntax, that does what this toxic does; or why none does.
    pub fn fault_text(&self) -> Result<String, String> {
        if !matches!(self.stream(), "downstream" | "upstream") {
            return Err(format!("stream must be `downstream` or `upstream`, not `{}`", self.stream()));
        }
        let toxicity = self.toxicity.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&toxicity) {
            return Err(format!("toxicity must be between 0 and 1, not {toxicity}"));
        }
        let action = match self.kind.as_str() {
            "latency" => {
                self.only(&["latency", "jitter"])?;
                let (latency, jitter) = (self.millis("latency")?, self.millis("jitter")?);
                match jitter {
                    0 => format!("latency: {latency}ms"),
                    _ => format!(
                        "latency: {{ uniform: [{}ms, {}ms] }}",
                        latency.saturating_sub(jitter),
                        latency + jitter
                    ),
                }
            }
            "timeout" => {
                self.only(&["timeout"])?;
                match self.millis("timeout")? {
                    0 => "hang: forever".to_owned(),
                    timeout => format!("hang: {timeout}ms"),
                }
            }
            "reset_peer" => {
                self.only(&["timeout"])?;
                match self.millis("timeout")? {
                    0 => "reset: true".to_owned(),
                    _ => return Err("reset_peer with a timeout > 0 is not supported: use timeout 0 (reset at once), or a latency toxic before it".to_owned()),
                }
            }
            "bandwidth" => {
                self.only(&["rate"])?;
                if self.stream() != "downstream" {
                    return Err("bandwidth limits answers only: use stream `downstream`".to_owned());
                }
                match self.millis("rate")? {
                    0 => return Err("bandwidth rate must be > 0 KB/s".to_owned()),
                    rate => format!("bandwidth: {rate}KB/s"),
                }
            }
            other => {
                return Err(format!(
                "toxic type `{other}` is not supported; supported: latency, timeout, reset_peer, bandwidth"
            ))
            }
        };
        Ok(format!("{{ {action}, probability: {}% }}", toxicity * 100.0))
    }

    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        match self.attributes.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(format!(
                "attribute `{key}` is not supported for `{}`; supported: {}",
                self.kind,
                allowed.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// A whole, non-negative number attribute (0 when absent).
    fn millis(&self, key: &str) -> Result<u64, String> {
        match self.attributes.get(key) {
            None => Ok(0),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| format!("attribute `{key}` must be a whole number ≥ 0, not {value}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toxic(value: Value) -> Toxic {
        serde_json::from_value(value).expect("a toxic")
    }

    fn parses(text: &str) {
        crate::scenario::parse_fault(text, crate::wire::ApiFamily::OpenAi)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    #[test]
    fn the_four_toxics_map_onto_faults_the_scenario_syntax_accepts() {
        let cases = [
            (
                json!({"type": "latency", "attributes": {"latency": 1000}}),
                "{ latency: 1000ms, probability: 100% }",
            ),
            (
                json!({"type": "latency", "toxicity": 0.5, "attributes": {"latency": 100, "jitter": 150}}),
                "{ latency: { uniform: [0ms, 250ms] }, probability: 50% }",
            ),
            (
                json!({"type": "timeout", "attributes": {"timeout": 0}}),
                "{ hang: forever, probability: 100% }",
            ),
            (
                json!({"type": "timeout", "stream": "upstream", "attributes": {"timeout": 2000}}),
                "{ hang: 2000ms, probability: 100% }",
            ),
            (
                json!({"type": "reset_peer", "attributes": {"timeout": 0}}),
                "{ reset: true, probability: 100% }",
            ),
            (
                json!({"type": "bandwidth", "attributes": {"rate": 10}}),
                "{ bandwidth: 10KB/s, probability: 100% }",
            ),
        ];
        for (given, expected) in cases {
            let text = toxic(given).fault_text().expect("maps");
            assert_eq!(text, expected);
            parses(&text);
        }
        assert_eq!(toxic(json!({"type": "latency"})).name(), "latency_downstream");
    }

    #[test]
    fn what_does_not_correspond_is_refused_with_a_reason() {
        let refused = [
            (json!({"type": "slicer", "attributes": {}}), "not supported"),
            (json!({"type": "latency", "attributes": {"latency": -5}}), "whole number"),
            (json!({"type": "latency", "attributes": {"lag": 5}}), "attribute `lag`"),
            (json!({"type": "reset_peer", "attributes": {"timeout": 100}}), "timeout > 0"),
            (json!({"type": "bandwidth", "stream": "upstream", "attributes": {"rate": 5}}), "downstream"),
            (json!({"type": "bandwidth", "attributes": {"rate": 0}}), "> 0"),
            (json!({"type": "latency", "toxicity": 1.5}), "toxicity"),
            (json!({"type": "latency", "stream": "sideways"}), "stream"),
        ];
        for (given, reason) in refused {
            let error = toxic(given.clone()).fault_text().expect_err("refused");
            assert!(error.contains(reason), "{given}: {error}");
        }
    }
}
