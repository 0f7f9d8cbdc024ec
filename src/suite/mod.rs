//! `chaos scorecard`: the standard suite. Each dimension's scenario is generated from the
//! target ([`templates`], [`scenario_text`]), all are checked before anything starts, then run
//! one after another through [`runner::execute`](crate::runner::execute), each a full run folder
//! of its own; the runs are graded by the rubric ([`crate::scorecard::rubric`]) and the card
//! written as `scorecard.json`, `scorecard.md` and `scorecard.html`.

pub mod scenario_text;
pub mod shared_gateway;
pub mod target_file;
mod templates;

use std::{
    future::Future,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context as _;

use crate::{
    results::Results,
    runner,
    scenario::{Plan, ScenarioError},
    scorecard::{
        evidence::GradedRun,
        grade,
        rubric::{self, Runs},
        Scorecard, SCORECARD_VERSION,
    },
    speed::Speed,
};
use shared_gateway::SharedGateway;
use target_file::{Reach, SuiteTarget};

/// How the suite runs.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The short variant (`--quick`).
    pub quick: bool,
    /// The time scale (`--speed`); the built-in client only.
    pub speed: Speed,
    /// The folder that receives the scenarios, the runs and the card.
    pub out: PathBuf,
}

/// The suite's scenarios for `target`, written under `out/scenarios/` and checked; the first
/// that does not check is the error, and nothing has started.
pub fn prepare(
    target: &SuiteTarget,
    options: &SuiteOptions,
) -> anyhow::Result<Result<Vec<(&'static str, Plan)>, ScenarioError>> {
    let fixed;
    let target = if target.start_once {
        fixed = shared_gateway::with_fixed_listen(target)?;
        &fixed
    } else {
        target
    };
    let folder = options.out.join("scenarios");
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let timing = scenario_text::Timing::of(options.quick);
    let rate_scale = match target.reach {
        Reach::Builtin(_) => options.speed.factor(),
        Reach::Gateway(_) => 1.0,
    };
    let mut plans = Vec::new();
    for shape in templates::shapes(target) {
        let text = scenario_text::scenario(target, timing, &shape, rate_scale);
        let path = folder.join(format!("{}.yaml", shape.id));
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        match crate::scenario::parse(&text, &path) {
            Ok(plan) => plans.push((shape.id, plan)),
            Err(error) => return Ok(Err(error)),
        }
    }
    Ok(Ok(plans))
}

/// Runs the checked scenarios in order and grades them; `shutdown` makes each run's stop signal
/// (Ctrl-C ends the run under way, and the suite after it).
pub async fn run<F: Future<Output = ()>>(
    target: &SuiteTarget,
    plans: Vec<(&'static str, Plan)>,
    options: &SuiteOptions,
    shutdown: impl Fn() -> F,
) -> anyhow::Result<Scorecard> {
    let started_at = time::OffsetDateTime::now_utc();
    let clock = Instant::now();
    let mut finished: Vec<(&'static str, Results, String)> = Vec::new();
    let gateway = match plans.first().filter(|_| target.start_once) {
        Some((_, plan)) => {
            println!("scorecard: starting the gateway once for the suite ...");
            Some(SharedGateway::start(plan, &options.out.join("gateway")).await?)
        }
        None => None,
    };
    for (id, plan) in plans {
        println!("scorecard: {id} ({}) ...", plan.summary());
        let mut plan = plan.at_speed(options.speed).anchored(time::OffsetDateTime::now_utc());
        if let Some(gateway) = &gateway {
            gateway.serve(&mut plan);
        }
        let run_options = runner::RunOptions::new(options.out.join("runs"));
        match runner::execute(&plan, &run_options, shutdown()).await {
            Ok(report) => {
                let interrupted = report.results.run.interrupted;
                let relative = report.folder.join("report.html");
                let relative = relative.strip_prefix(&options.out).unwrap_or(&relative).display().to_string();
                println!("  verdict {:?}, report {relative}", report.results.verdict);
                finished.push((id, report.results, relative));
                if interrupted {
                    break;
                }
            }
            Err(error) => eprintln!("  {id} did not run: {error:#}"),
        }
    }
    if let Some(gateway) = gateway {
        gateway.stop().await;
    }
    let primary = target.upstreams[0].name.as_str();
    let runs: Runs =
        finished.iter().map(|(id, results, report)| (*id, GradedRun { results, primary, report })).collect();
    let context = rubric::Context {
        timeout_s: target.timeout_s,
        retries: target.retries,
        hops: target.upstreams.len() as u32,
        anthropic_upstream: target.upstreams.iter().any(|upstream| upstream.api == "anthropic"),
        primary_keys: target.upstreams[0].keys,
    };
    let dimensions = rubric::grade_all(&runs, &context);
    Ok(Scorecard {
        schema_version: SCORECARD_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        suite: "standard".to_owned(),
        rubric_version: rubric::RUBRIC_VERSION,
        quick: options.quick,
        target: target.name.clone(),
        speed: options.speed.factor(),
        started_at: started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        elapsed_s: clock.elapsed().as_secs_f64(),
        overall: grade::overall(dimensions.iter().map(|d| (d.grade, d.critical))),
        dimensions,
    })
}

/// Writes `scorecard.json`, `scorecard.md` and `scorecard.html` into `folder`.
pub fn write(card: &Scorecard, folder: &Path) -> anyhow::Result<()> {
    let files = [
        ("scorecard.json", serde_json::to_string_pretty(card)? + "\n"),
        ("scorecard.md", crate::scorecard::markdown::render(card)),
        ("scorecard.html", crate::scorecard::html::render(card)),
    ];
    for (name, text) in files {
        let path = folder.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
