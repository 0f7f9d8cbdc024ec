//! The load's `{{upstreams.NAME.url}}`, `{{upstreams.NAME.key}}` and `{{upstreams.NAME.keys.I}}`
//! placeholders filled once the interposers listen: a gateway configured per request (Portkey's
//! `x-portkey-config` header) is told in every request where its upstreams are. The same values
//! fill a command target's command line and files (`target`).

use std::{net::SocketAddr, sync::Arc};

use crate::{plan::Plan, request_mix::RequestMix, template::Values};

impl Plan {
    /// Each upstream's URL (its interposer at `addrs`, in the plan's order) and keys.
    pub fn upstream_values(&self, addrs: &[SocketAddr]) -> Values {
        let mut values = Values::default();
        for (upstream, addr) in self.upstreams.iter().zip(addrs) {
            values.set_upstream(&upstream.name, &format!("http://{addr}"), &upstream.keys);
        }
        values
    }

    /// The plan with its load's upstream placeholders filled for interposers at `addrs`, or
    /// `None` when no request names an upstream.
    pub fn with_upstreams_filled(&self, addrs: &[SocketAddr]) -> Option<Plan> {
        let kinds = self.load.mix.kinds();
        if !kinds.iter().any(|kind| kind.shape.as_ref().is_some_and(|shape| shape.names_upstreams())) {
            return None;
        }
        let values = self.upstream_values(addrs);
        let filled = kinds.iter().map(|kind| {
            let mut kind = kind.clone();
            kind.shape = kind.shape.map(|shape| Arc::new(shape.filled(&values)));
            kind
        });
        let mut plan = self.clone();
        plan.load.mix = RequestMix::new(filled.collect());
        Some(plan)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn plan(headers: &str) -> Plan {
        let yaml = format!(
            "name: s\nupstreams: {{ openai: {{ mock: openai, keys: 2 }}, anthropic: {{ mock: anthropic }} }}\n\
             load:\n  arrival: {{ rate: 1/s }}\n  request: {{ model: m, headers: {headers} }}\n\
             phases: [{{ name: p, duration: 1s }}]\n"
        );
        crate::parse(&yaml, Path::new("test.yaml")).unwrap()
    }

    use super::*;
    use crate::request_shape::RequestValues;

    fn header(plan: &Plan) -> String {
        let shape = plan.load.mix.kinds()[0].shape.clone().unwrap();
        let values = RequestValues { request_id: 1, key: "k", model: "m", max_tokens: None, prompt: "" };
        let mut out = Vec::new();
        shape.headers[0].1.write_raw(&values, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_header_names_an_upstreams_url_and_keys_filled_when_the_interposers_listen() {
        let plan = plan(
            r#"{ x-cfg: "{\"host\":\"{{upstreams.openai.url}}/v1\",\"key\":\"{{upstreams.openai.keys.1}}\",\"b\":\"{{ upstreams.anthropic.key }}\"}" }"#,
        );
        assert_eq!(
            header(&plan),
            r#"{"host":"/v1","key":"","b":""}"#,
            "unfilled, the placeholders write nothing"
        );
        let addrs: Vec<SocketAddr> =
            vec!["127.0.0.1:9101".parse().unwrap(), "127.0.0.1:9102".parse().unwrap()];
        let filled = plan.with_upstreams_filled(&addrs).expect("it names upstreams");
        assert_eq!(
            header(&filled),
            r#"{"host":"http://127.0.0.1:9101/v1","key":"sk-chaos-openai-1","b":"sk-chaos-anthropic-0"}"#
        );
        let shown = format!("{:?}", filled.load.mix.kinds()[0].shape);
        assert!(!shown.contains("sk-chaos-openai-1"), "a filled key is not shown: {shown}");
    }

    #[test]
    fn a_plan_naming_no_upstream_is_left_as_it_is_and_an_unknown_upstream_is_refused() {
        assert!(plan(r#"{ x-team: "a-{{key}}" }"#).with_upstreams_filled(&[]).is_none());
        let yaml = "name: s\nupstreams: { openai: { mock: openai } }\nload:\n  arrival: { rate: 1/s }\n  \
                    request: { model: m, headers: { x-cfg: \"{{upstreams.bedrock.url}}\" } }\n\
                    phases: [{ name: p, duration: 1s }]\n";
        let error = crate::parse(yaml, Path::new("test.yaml")).unwrap_err().to_string();
        assert!(error.contains("test.yaml:5:") && error.contains("upstreams.bedrock.url"), "{error}");
    }
}
