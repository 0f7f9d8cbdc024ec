//! How figures read in every rendering (terminal table, `summary.md`, `junit.xml`, `report.html`): one place
//! decides the units and precision of a value, and the words for a check's result.

use crate::results::{Check, CheckStatus, Metric, Paging, Verdict, MIN_EVENTS};

/// Shown for a figure with nothing to compute it from.
pub const MISSING: &str = "-";

/// `0.9715` → `97.15%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// A share of the error budget, small as a game day's usually is, to about three significant
/// digits: `23.1%`, `1.16%`, `0.039%`.
pub fn budget(fraction: f64) -> String {
    match fraction * 100.0 {
        p if p >= 10.0 => format!("{p:.1}%"),
        p if p >= 0.1 => format!("{p:.2}%"),
        p => format!("{p:.3}%"),
    }
}

/// Seconds as `2.01s`, or `1.5ms` below a second.
pub fn seconds(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2}s")
    } else {
        format!("{:.1}ms", seconds * 1000.0)
    }
}

/// A plain ratio such as a burn rate or an amplification: `1.40`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}")
}

/// US dollars: in cents from a dollar up, else to four significant digits (a request's cost is
/// often a fraction of a cent): `$12.35`, `$0.0002000`.
pub fn dollars(usd: f64) -> String {
    let digits = match usd.abs() {
        small if small > 0.0 && small < 1.0 => (3.0 - small.log10().floor()).min(12.0) as usize,
        _ => 2,
    };
    format!("${usd:.digits$}")
}

/// A figure that may be missing, shown by `show`.
pub fn optional(value: Option<f64>, show: fn(f64) -> String) -> String {
    value.map_or_else(|| MISSING.to_owned(), show)
}

/// Shown for a time to fail over or recover that never came: the check failed on it (in
/// `results.json` its `observed` is `null`, as JSON has no infinity).
pub const NEVER: &str = "never";

/// What a check observed, in its metric's unit.
pub fn observed(check: &Check) -> String {
    let transition = matches!(check.expectation.metric, Metric::TimeToFailover | Metric::TimeToRecover);
    if transition && check.status == CheckStatus::Fail && !check.observed.is_some_and(f64::is_finite) {
        return NEVER.to_owned();
    }
    let show = match check.expectation.metric {
        Metric::Availability
        | Metric::ErrorRate
        | Metric::FallbackRate
        | Metric::RetryAfterCompliance
        | Metric::RetryAfterHonoured
        | Metric::DuplicateRate => percent,
        Metric::BudgetSpent => budget,
        Metric::Latency { .. } | Metric::TimeToFailover | Metric::TimeToRecover => seconds,
        Metric::RetryAmplification | Metric::BurnRate | Metric::CostMultiplier => ratio,
        Metric::CostPerRequest | Metric::CostPerMinute => dollars,
    };
    optional(check.observed, show)
}

/// A check's result in a word or two: `pass`, `FAIL`, `inconclusive (12 requests)`.
pub fn result(check: &Check) -> String {
    match check.status {
        CheckStatus::Pass => "pass".to_owned(),
        CheckStatus::Fail => "FAIL".to_owned(),
        CheckStatus::Inconclusive => format!("inconclusive ({} requests)", check.events),
    }
}

/// Why a check is inconclusive, in a sentence.
pub fn inconclusive_reason(check: &Check) -> String {
    if check.events < MIN_EVENTS {
        format!(
            "inconclusive: {} requests in the window, fewer than the {MIN_EVENTS} a verdict needs",
            check.events
        )
    } else {
        "inconclusive: nothing in the window to compute the figure from".to_owned()
    }
}

/// The verdict in capitals: `PASS`, `FAIL`, `INCONCLUSIVE`, `INTERRUPTED`.
pub fn verdict(verdict: Verdict) -> String {
    format!("{verdict:?}").to_uppercase()
}

/// Whether the run would have paged, by which rule, and what filled the windows, in plain
/// words; `name` shows the baseline phase's name as the rendering needs it.
pub fn paging(paging: &Paging, peak_5m: Option<f64>, name: fn(&str) -> String) -> String {
    let rules: Vec<String> = paging
        .rules
        .iter()
        .map(|rule| {
            let when = rule.first_page_at_s.map_or(String::new(), |s| format!(", paged {s}s into the run"));
            format!(
                "{} peak {} (pages at {}{when})",
                rule.rule,
                optional(rule.peak_burn_rate, ratio),
                rule.threshold
            )
        })
        .collect();
    let filled = match &paging.baseline {
        Some(phase) => format!("at the {} phase's error rate", name(phase)),
        None => "as error-free (the first phase injected faults)".to_owned(),
    };
    format!(
        "{} — {}. Peak 5-minute burn rate {}. Windows reaching back before the run were filled {filled}.",
        if paging.paged { "yes" } else { "no" },
        rules.join("; "),
        optional(peak_5m, ratio),
    )
}

/// An objective as written: `99.9%`, `99.95%` (never rounded to `100.00%`).
pub fn objective(fraction: f64) -> String {
    let digits = format!("{:.4}", fraction * 100.0);
    format!("{}%", digits.trim_end_matches('0').trim_end_matches('.'))
}

/// A period in whole days or hours where it is one: `30d`, `12h`.
pub fn period(seconds: f64) -> String {
    match seconds {
        s if s >= 86_400.0 && s % 86_400.0 == 0.0 => format!("{}d", s / 86_400.0),
        s if s >= 3600.0 && s % 3600.0 == 0.0 => format!("{}h", s / 3600.0),
        s => self::seconds(s),
    }
}

/// A timeline's step in its largest whole unit: `5 s`, `30 min`, `3 h`, `2 days`.
fn step_length(step: u64) -> String {
    match step {
        s if s % 86_400 == 0 => format!("{} day{}", s / 86_400, if s == 86_400 { "" } else { "s" }),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Why the run is invalid when its target went around the interposers, how it stopped when not
/// by running out of phases, and whether it was a rehearsal: a sentence each, for every
/// rendering.
pub fn stop_notes(results: &crate::results::Results) -> Vec<String> {
    let run = &results.run;
    let mut notes = crate::results::bypass_notes(&results.phases);
    if run.dry_run {
        notes.push("Dry run: the whole plan ran with no fault firing.".to_owned());
    }
    if let Some(halt @ crate::results::Halt { by: Some(by), .. }) = &run.halted_by {
        notes.push(format!(
            "Stopped {} into the run, in phase {}: an emergency stop ({by}); every fault was removed at once and the run ended as halted.",
            seconds(halt.at_s),
            halt.phase,
        ));
    } else if let Some(halt) = &run.halted_by {
        notes.push(format!(
            "Halted {} into the run, in phase {}: the halt condition `{}` held (observed {}); every fault was removed at once and the run stopped.",
            seconds(halt.at_s),
            halt.phase,
            halt.condition,
            (halt.observed * 10_000.0).round() / 10_000.0
        ));
    }
    if let Some(expectation) = &run.aborted_by {
        notes.push(format!("Stopped early (abort_on_fail): `{expectation}` failed."));
    }
    if run.interrupted {
        notes.push("Interrupted (Ctrl-C or SIGTERM): the figures cover what happened until then.".to_owned());
    }
    notes.extend(wiring_notes(results));
    notes
}

/// What the preflight and the attempts say of how the target is wired to the interposers.
fn wiring_notes(results: &crate::results::Results) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(preflight) = results.preflight.as_ref().filter(|preflight| !preflight.ids_forwarded) {
        notes.push(format!("Preflight: {}.", preflight.describe()));
    }
    let uncorrelated = results.overall.uncorrelated_attempts;
    if uncorrelated > 0 {
        notes.push(format!(
            "{uncorrelated} attempts reached the interposers without a request's correlation id (the target's \
             own health checks or warm-ups): counted apart, in no other figure."
        ));
    }
    notes
}

/// Where the results came from, when not simply one run: runs merged, a journal replayed, a
/// journal that dropped lines; and timelines kept in buckets of several seconds. A sentence
/// each.
pub fn provenance(results: &crate::results::Results) -> Vec<String> {
    let mut notes = Vec::new();
    let step = results.timeline_step_s;
    if step > 1 {
        notes.push(format!(
            "The timelines are downsampled: one point per {} of the run (timeline_step_s {step}); counts \
             are summed, latency percentiles and burn rates are the highest of its seconds.",
            step_length(step)
        ));
    }
    if !results.merged_from.is_empty() {
        notes.push(merged_from(&results.merged_from));
    }
    if let Some(replay) = &results.replay {
        notes.push(format!(
            "Replayed the fault decisions of {}: {} imposed, {} left to the chains.",
            replay.file, replay.imposed, replay.misses
        ));
    }
    if let Some(journal) = results.journal.filter(|journal| journal.dropped > 0) {
        notes.push(format!(
            "The journal dropped {} attempt lines its writer could not keep up with ({} written).",
            journal.dropped, journal.written
        ));
    }
    notes
}

/// What a merged document was made of: shards of one load (and which are missing), or replicas.
fn merged_from(runs: &[crate::results::MergedRun]) -> String {
    let files: Vec<&str> = runs.iter().map(|run| run.file.as_str()).collect();
    let shards: Vec<crate::results::ShardOf> = runs.iter().filter_map(|run| run.shard).collect();
    let Some(count) = shards.first().map(|shard| shard.count).filter(|_| shards.len() == runs.len()) else {
        return format!(
            "Merged from {} runs of the whole load with one seed: replicas (the same arrivals and fault draws), \
             not independent samples: {}.",
            files.len(),
            files.join(", ")
        );
    };
    let missing: Vec<String> = (0..count)
        .filter(|index| !shards.iter().any(|shard| shard.index == *index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    let missing = match missing.is_empty() {
        true => String::new(),
        false => format!(
            " Shard(s) {} missing: the load measured was {}/{count} of the plan's.",
            missing.join(", "),
            shards.len()
        ),
    };
    format!("Merged from {} shards of {count} of the load: {}.{missing}", shards.len(), files.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_in_their_units() {
        assert_eq!(
            (percent(0.9715), seconds(2.009), seconds(0.0015), ratio(1.4)),
            ("97.15%".into(), "2.01s".into(), "1.5ms".into(), "1.40".into())
        );
        // 10 minutes of total outage at 99.9 % over 30 days, one minute of it, and 2 s.
        assert_eq!(
            (budget(0.231_48), budget(0.023_15), budget(0.000386)),
            ("23.1%".into(), "2.31%".into(), "0.039%".into())
        );
        assert_eq!(optional(None, percent), MISSING);
        let expectation = crate::scenario::expect::parse("time_to_failover{phase=p} < 5s", &["p".to_owned()]);
        let never = Check {
            expectation: expectation.expect("parses"),
            phase: Some("p".to_owned()),
            observed: Some(f64::INFINITY),
            events: 100,
            status: CheckStatus::Fail,
        };
        assert_eq!(observed(&never), NEVER);
        assert_eq!(observed(&Check { observed: None, ..never.clone() }), NEVER, "as read back from JSON");
        assert_eq!(observed(&Check { observed: Some(2.0), status: CheckStatus::Pass, ..never }), "2.00s");
        assert_eq!(
            (dollars(12.345), dollars(0.0002), dollars(0.012_34), dollars(0.0)),
            ("$12.35".into(), "$0.0002000".into(), "$0.01234".into(), "$0.00".into())
        );
    }

    #[test]
    fn provenance_says_what_was_merged_replayed_or_dropped() {
        let mut results = crate::test_support::results();
        assert!(provenance(&results).is_empty(), "one plain run needs no note");
        results.replay =
            Some(crate::results::ReplayStats { file: "j.ndjson".into(), imposed: 40, misses: 2 });
        results.journal = Some(crate::results::JournalStats { written: 10, dropped: 3 });
        results.timeline_step_s = 10_800;
        assert_eq!(
            provenance(&results),
            [
                "The timelines are downsampled: one point per 3 h of the run (timeline_step_s 10800); counts \
                 are summed, latency percentiles and burn rates are the highest of its seconds.",
                "Replayed the fault decisions of j.ndjson: 40 imposed, 2 left to the chains.",
                "The journal dropped 3 attempt lines its writer could not keep up with (10 written)."
            ]
        );
    }

    #[test]
    fn a_merge_says_whether_it_added_shards_or_replicas_and_which_shards_are_missing() {
        let run = |file: &str, shard: Option<(u32, u32)>| crate::results::MergedRun {
            file: file.to_owned(),
            started_at: String::new(),
            elapsed_s: 1.0,
            logical_requests: 1,
            verdict: crate::results::Verdict::Pass,
            environment: crate::test_support::results().environment,
            shard: shard.map(|(index, count)| crate::results::ShardOf { index, count }),
        };
        let shards = merged_from(&[run("a", Some((0, 3))), run("c", Some((2, 3)))]);
        assert_eq!(
            shards,
            "Merged from 2 shards of 3 of the load: a, c. Shard(s) 1/3 missing: the load measured was 2/3 of the plan's."
        );
        assert_eq!(
            merged_from(&[run("a", Some((0, 2))), run("b", Some((1, 2)))]),
            "Merged from 2 shards of 2 of the load: a, b."
        );
        assert!(merged_from(&[run("a", None), run("b", None)]).contains("replicas"));
    }
}
