//! Property-based tests of the scenario reader and checker (issue 25): whatever a file holds,
//! `chaos validate`'s check of it never panics, ends within [`TIME_BOUND`] holding at most
//! [`MEMORY_BOUND`] at once, and either passes or fails with an error at `file:line:column`
//! inside the file, in the user's words. Inputs are mutations of every library scenario
//! ([`mutations`]) and arbitrary YAML documents built from the scenario's vocabulary
//! ([`documents`]), with hostile values ([`hostile`]); the library's entry (`scenario::load`,
//! which `validate` runs) takes thousands of them, the binary a handful ([`binary`]).
//!
//! Why proptest rather than bolero: the inputs here are structured (a scenario, then a list
//! of edits at places in it; a tree of YAML nodes), which proptest's strategies compose and,
//! on a failure, shrink to the smallest edit list or tree that still fails, printed as a
//! readable value to paste into a regression test. It runs under plain `cargo test` on stable
//! with no extra tool, and with `default-features = false` it adds four small crates. bolero's
//! edge is coverage-guided fuzzing through libFuzzer or AFL under `cargo bolero`, a separate
//! tool and nightly toolchain CI does not have; under `cargo test` it draws random bytes, with
//! shrinking weaker on structured inputs.
//!
//! Cases: [`DEFAULT_CASES`] per property in `cargo test`; `CHAOS_PROPTEST_CASES=100000` for
//! more, `CHAOS_PROPTEST_SEED=N` for other inputs than CI's fixed seed.
//! Memory: the test binary's allocator counts each thread's live bytes ([`allocation`]).

mod allocation;
mod binary;
mod documents;
mod hostile;
mod inputs;
mod mutations;

use std::{
    cell::Cell,
    path::Path,
    time::{Duration, Instant},
};

use proptest::{
    prelude::*,
    test_runner::{Config, RngSeed, TestCaseError, TestRunner},
};

use chaos::{scenario::ScenarioError, speed::Speed};

use inputs::{Case, Workspace};

/// The longest one case may take, in a debug build on a loaded machine: a library scenario
/// takes a few milliseconds, the worst input found (a billion laughs at the reader's 50,000
/// values) 0.4 s idle and up to 2 s with two cores shared by four builds; an unknown metric a
/// megabyte long took 20 s before it was fixed.
pub const TIME_BOUND: Duration = Duration::from_secs(5);

/// The most one case may hold at once: a library scenario's check holds under 1 MiB.
pub const MEMORY_BOUND: usize = 64 << 20;

/// Cases per property in `cargo test`: about 10 s (mutations) and 15 s (documents) of a debug
/// build on two loaded cores.
pub const DEFAULT_CASES: u32 = 1_500;

/// Words of the YAML reader's or serde's own that must never reach a user.
const INTERNALS: &[&str] = &[
    "DuplicateKeyPolicy",
    "untagged enum",
    "budget breached",
    "Depth {",
    "Nodes {",
    "ScalarBytes {",
    "Aliases {",
];

/// The cases a property runs: `CHAOS_PROPTEST_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("CHAOS_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}

/// A runner of `cases` cases from `CHAOS_PROPTEST_SEED` (a fixed seed unless given), writing no
/// regression files (a failure becomes a named test instead) and shrinking for at most a
/// minute.
pub fn runner(cases: u32) -> TestRunner {
    let seed = std::env::var("CHAOS_PROPTEST_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or(25);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_time: 60_000,
        ..Config::default()
    })
}

/// How a checked case came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Refused,
}

/// Writes `case` into `workspace` and checks it as `chaos validate` does (read with the size
/// cap, parse, check, then the plan summed up and set at a speed), asserting the property.
pub fn check(case: &Case, workspace: &Workspace) -> Result<Outcome, TestCaseError> {
    let file = &workspace.write(case);
    let started = Instant::now();
    let (checked, peak) = allocation::peak_of(|| {
        chaos::scenario::load(file).map(|plan| {
            let summary = plan.summary();
            let _ = plan.at_speed(Speed::REAL_TIME);
            summary
        })
    });
    let took = started.elapsed();
    prop_assert!(took < TIME_BOUND, "the check took {took:?}");
    prop_assert!(peak < MEMORY_BOUND, "the check held {} MiB at once", peak >> 20);
    match checked {
        Ok(summary) => {
            prop_assert!(!summary.is_empty());
            Ok(Outcome::Passed)
        }
        Err(error) => {
            located(&error, &case.bytes, file)?;
            Ok(Outcome::Refused)
        }
    }
}

/// Asserts `error` names `file`, a line of `bytes` (or the one past the end) and a column, and
/// says what is wrong without the parser's internals.
fn located(error: &ScenarioError, bytes: &[u8], file: &Path) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|&&byte| byte == b'\n').count() as u32 + 1;
    prop_assert!(error.line >= 1 && error.column >= 1, "no location: {error}");
    prop_assert!(error.line <= lines + 1, "line {} of a {lines}-line file: {error}", error.line);
    let shown = error.to_string();
    let place = format!("{}:{}:{}: ", file.display(), error.line, error.column);
    prop_assert!(shown.starts_with(&place), "expected `{place}` first: {shown}");
    prop_assert!(!error.message.trim().is_empty(), "an empty message: {shown}");
    prop_assert!(error.message.chars().count() <= 1_001, "a message of {} characters", error.message.len());
    for internal in INTERNALS {
        prop_assert!(!error.message.contains(internal), "the parser's `{internal}` shown: {}", error.message);
    }
    Ok(())
}

/// Runs `strategy`'s cases through [`check`]; returns how many passed and how many were refused.
fn run_property(strategy: impl Strategy<Value = Case>, cases: u32) -> (u32, u32) {
    let workspace = Workspace::new();
    let (passed, refused) = (Cell::new(0), Cell::new(0));
    let outcome = runner(cases).run(&strategy, |case| {
        let counter = match check(&case, &workspace)? {
            Outcome::Passed => &passed,
            Outcome::Refused => &refused,
        };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    (passed.get(), refused.get())
}

#[test]
fn every_library_scenario_passes_unmutated_so_the_property_can_tell_pass_from_refusal() {
    let workspace = Workspace::new();
    for (folder, text) in inputs::library() {
        let case = Case { folder, bytes: text.into_bytes() };
        match check(&case, &workspace) {
            Ok(outcome) => assert_eq!(outcome, Outcome::Passed, "{case:?}"),
            Err(failure) => panic!("{case:?}: {failure}"),
        }
    }
}

#[test]
fn mutated_library_scenarios_pass_or_fail_located_within_time_and_memory() {
    let (passed, refused) = run_property(inputs::mutated_scenario(), cases(DEFAULT_CASES));
    eprintln!("mutated library scenarios: {passed} passed, {refused} refused");
    let total = passed + refused;
    assert!(passed * 50 >= total && refused * 2 >= total, "{passed} passed, {refused} refused");
}

#[test]
fn arbitrary_yaml_documents_pass_or_fail_located_within_time_and_memory() {
    let (passed, refused) = run_property(inputs::document(), cases(DEFAULT_CASES));
    eprintln!("arbitrary documents: {passed} passed, {refused} refused");
    assert!(refused > 0, "{passed} passed, none refused");
}
