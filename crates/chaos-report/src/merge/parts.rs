//! The parts of merged results that are not figures: how the runs went (`RunMeta`), the load
//! generators' accounts of themselves, and what each mock upstream received.

use std::collections::BTreeMap;

use crate::{
    metrics::Percentiles,
    results::{CountsRow, GeneratorReport, RunMeta, UpstreamCounts},
};

/// The runs side by side: started with the first, lasting as long as the longest; interrupted,
/// aborted or halted if any was (the first one's reason).
pub fn run_meta<'a>(runs: impl IntoIterator<Item = &'a RunMeta>) -> RunMeta {
    let mut runs = runs.into_iter();
    let Some(first) = runs.next() else { return empty_run() };
    runs.fold(first.clone(), |mut merged, run| {
        merged.started_at = merged.started_at.min(run.started_at.clone());
        merged.phases_started_at = merged.phases_started_at.min(run.phases_started_at.clone());
        merged.elapsed_s = merged.elapsed_s.max(run.elapsed_s);
        merged.interrupted |= run.interrupted;
        merged.aborted_by = merged.aborted_by.or_else(|| run.aborted_by.clone());
        merged.halted_by = merged.halted_by.or_else(|| run.halted_by.clone());
        merged
    })
}

fn empty_run() -> RunMeta {
    RunMeta {
        started_at: String::new(),
        elapsed_s: 0.0,
        interrupted: false,
        aborted_by: None,
        halted_by: None,
        dry_run: false,
        phases_started_at: String::new(),
    }
}

/// The generators together: starts and misses add up, lateness is the worst of them (an upper
/// bound for the percentiles), and the merged run kept up only if every generator did. Each
/// problem is prefixed with the file it came from.
pub fn generator<'a>(reports: impl IntoIterator<Item = (&'a str, &'a GeneratorReport)>) -> GeneratorReport {
    let mut merged = GeneratorReport {
        sent: 0,
        missed: 0,
        threads: 0,
        lag_ms: None,
        max_lag_ms: 0.0,
        kept_up: true,
        problems: Vec::new(),
    };
    for (file, report) in reports {
        merged.sent += report.sent;
        merged.missed += report.missed;
        merged.threads += report.threads;
        merged.lag_ms = Percentiles::upper(merged.lag_ms, report.lag_ms);
        merged.max_lag_ms = merged.max_lag_ms.max(report.max_lag_ms);
        merged.kept_up &= report.kept_up;
        merged.problems.extend(report.problems.iter().map(|problem| format!("{file}: {problem}")));
    }
    merged
}

/// Each upstream's counts added up, row by key and model (same scenario, so same upstreams in
/// the same order); an error names the upstream whose rows cannot be read.
pub fn upstreams<'a>(
    runs: impl IntoIterator<Item = &'a [UpstreamCounts]>,
) -> Result<Vec<UpstreamCounts>, String> {
    // Each upstream with its rows by key and model.
    type Rows = BTreeMap<(String, String), CountsRow>;
    let mut merged: Vec<(UpstreamCounts, Rows)> = Vec::new();
    for run in runs {
        for (index, upstream) in run.iter().enumerate() {
            if index == merged.len() {
                merged.push((upstream.clone(), BTreeMap::new()));
            }
            let rows: Vec<CountsRow> =
                serde_json::from_value(upstream.received.clone()).map_err(|error| {
                    format!("the counts of upstream `{}` cannot be read: {error}", upstream.name)
                })?;
            for row in rows {
                match merged[index].1.entry((row.key.clone(), row.model.clone())) {
                    std::collections::btree_map::Entry::Occupied(mut known) => {
                        known.get_mut().tally.merge(&row.tally)
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(row);
                    }
                }
            }
        }
    }
    merged
        .into_iter()
        .map(|(upstream, rows)| {
            let rows: Vec<CountsRow> = rows.into_values().collect();
            let received = serde_json::to_value(rows).map_err(|error| error.to_string())?;
            Ok(UpstreamCounts { received, ..upstream })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_add_up_and_the_worst_lateness_wins() {
        let kept = GeneratorReport {
            sent: 10,
            missed: 0,
            threads: 1,
            lag_ms: None,
            max_lag_ms: 1.0,
            kept_up: true,
            problems: vec![],
        };
        let behind = GeneratorReport {
            sent: 5,
            missed: 2,
            max_lag_ms: 80.0,
            kept_up: false,
            problems: vec!["skipped 2 starts".to_owned()],
            ..kept.clone()
        };
        let merged = generator([("a.json", &kept), ("b.json", &behind)]);
        assert_eq!((merged.sent, merged.missed, merged.max_lag_ms, merged.kept_up), (15, 2, 80.0, false));
        assert_eq!(merged.threads, 2, "each run's load thread");
        assert_eq!(merged.problems, ["b.json: skipped 2 starts"]);
    }

    #[test]
    fn upstream_rows_add_up_by_key_and_model() {
        let row = |key: &str, requests: u64| {
            serde_json::json!({ "key": key, "model": "m", "requests": requests, "statuses": { "200": requests },
                                "prompt_tokens": 0, "output_tokens": 0 })
        };
        let upstream = |rows: Vec<serde_json::Value>| UpstreamCounts {
            name: "openai".to_owned(),
            family: crate::wire::ApiFamily::OpenAi,
            zone: None,
            url: None,
            received: serde_json::Value::Array(rows),
        };
        let (one, two) =
            ([upstream(vec![row("key-0", 2)])], [upstream(vec![row("key-0", 3), row("key-1", 1)])]);
        let merged = upstreams([one.as_slice(), two.as_slice()]).expect("readable rows");
        let rows: Vec<CountsRow> = serde_json::from_value(merged[0].received.clone()).expect("rows");
        let counts: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.tally.requests)).collect();
        assert_eq!(counts, [("key-0", 5), ("key-1", 1)]);
        assert_eq!(rows[0].tally.statuses[&200], 5);
        let garbage = [UpstreamCounts { received: serde_json::json!([{ "key": 1 }]), ..one[0].clone() }];
        assert!(upstreams([garbage.as_slice()]).unwrap_err().contains("upstream `openai`"));
    }
}
