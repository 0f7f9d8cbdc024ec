//! `chaos scorecard` through the binary: the built-in openai-python and naive profiles graded
//! on the quick suite at speed 5 (about 30 s each, once per test binary: the cards are shared),
//! their cards' files and their grades, and `chaos scorecard compare` of the two; a bad target
//! refused before anything starts; cards that do not compare refused by name; the committed
//! schemas.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use crate::support::{assert_schema_committed, chaos, root};

/// One profile graded: the exit code, the card and its folder.
pub struct Graded {
    pub code: i32,
    pub card: serde_json::Value,
    pub out: PathBuf,
}

impl Graded {
    pub fn file(&self) -> String {
        self.out.join("scorecard.json").display().to_string()
    }
}

/// openai-python graded with no `--fail-below`, once per test binary.
pub fn openai_python() -> &'static Graded {
    static GRADED: OnceLock<Graded> = OnceLock::new();
    GRADED.get_or_init(|| graded("openai-python", &[]))
}

/// naive graded with `--fail-below B`, once per test binary.
pub fn naive() -> &'static Graded {
    static GRADED: OnceLock<Graded> = OnceLock::new();
    GRADED.get_or_init(|| graded("naive", &["--fail-below", "B"]))
}

/// Runs the quick suite against `builtin:<profile>` at speed 5 into
/// `target/scorecard-tier/<profile>` (kept, for a person to open).
fn graded(profile: &str, extra: &[&str]) -> Graded {
    let out = root().join("target/scorecard-tier").join(profile);
    let _ = std::fs::remove_dir_all(&out);
    let folder = out.display().to_string();
    let target = format!("builtin:{profile}");
    let mut args =
        vec!["scorecard", "--target", target.as_str(), "--quick", "--speed", "5", "--out", folder.as_str()];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = chaos(&args);
    let text = std::fs::read_to_string(out.join("scorecard.json"))
        .unwrap_or_else(|error| panic!("no scorecard.json ({error}): {stdout}\n{stderr}"));
    Graded { code, card: serde_json::from_str(&text).expect("scorecard.json is JSON"), out }
}

fn row<'a>(card: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let found = card["dimensions"].as_array().expect("dimensions").iter().find(|row| row["id"] == id);
    found.unwrap_or_else(|| panic!("no dimension {id}"))
}

fn grade<'a>(card: &'a serde_json::Value, id: &str) -> &'a str {
    row(card, id)["grade"].as_str().expect("a grade")
}

/// A row's reason, for a failing assertion's message.
fn why<'a>(card: &'a serde_json::Value, id: &str) -> &'a str {
    row(card, id)["reason"].as_str().unwrap_or_default()
}

#[test]
fn naive_grades_worse_than_openai_python_on_retries_and_cost_and_fails_below_b() {
    let (sdk_graded, naive_graded) = (openai_python(), naive());
    assert_eq!(sdk_graded.code, 0, "no --fail-below: exit 0");
    assert_eq!(naive_graded.code, 1, "naive's overall grade is below B");
    let (sdk, naive, sdk_out) = (&sdk_graded.card, &naive_graded.card, &sdk_graded.out);

    assert_eq!(grade(sdk, "retry_after"), "A", "openai-python waits as asked: {}", why(sdk, "retry_after"));
    assert_eq!(grade(naive, "retry_after"), "F", "naive retries at once: {}", why(naive, "retry_after"));
    assert_eq!(grade(sdk, "stream_cut"), "A", "the SDK hands a cut stream on: {}", why(sdk, "stream_cut"));
    assert_eq!(grade(naive, "stream_cut"), "F", "naive pays twice: {}", why(naive, "stream_cut"));
    assert!(grade(naive, "cost") > grade(sdk, "cost"), "naive's letter is worse: {}", grade(naive, "cost"));
    // Both retry a quota 429, as openai-python's status rule does; neither has a breaker.
    assert_eq!((grade(sdk, "quota"), grade(naive, "quota")), ("F", "F"));
    // The SDK's timeout covers the whole attempt, so a stalled stream ends within it; naive
    // retries it, waits the stall out and pays again.
    assert_eq!(grade(sdk, "stream_stall"), "A", "{}", why(sdk, "stream_stall"));
    let stalled = |card| row(card, "stream_stall")["figure"].as_f64().expect("a figure");
    assert!(
        stalled(naive) >= stalled(sdk) + 4.0,
        "naive waits a second timeout: {}",
        why(naive, "stream_stall")
    );
    // Both retry a 529 at the Anthropic fallback as their status rule says.
    assert_eq!(grade(sdk, "overloaded_529"), "A", "{}", why(sdk, "overloaded_529"));
    // A key a request: the third of requests that drew the spent key stay on it and fall back.
    let kept = row(sdk, "key_exhaustion")["figure"].as_f64().expect("a figure");
    assert!((50.0..90.0).contains(&kept), "{}", why(sdk, "key_exhaustion"));

    // The card's files, each row linking to a run's report that exists.
    for row in sdk["dimensions"].as_array().unwrap().iter().filter(|row| row["grade"] != "not graded") {
        let report = row["report"].as_str().expect("a graded row links its run");
        assert!(sdk_out.join(report).is_file(), "{report}");
    }
    let markdown = std::fs::read_to_string(sdk_out.join("scorecard.md")).unwrap();
    assert!(markdown.contains("| 429 with retry-after: retries wait as asked ★ | **A** |"), "{markdown}");
    let html = std::fs::read_to_string(sdk_out.join("scorecard.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("report.html") && !html.contains("<script"));
    assert_valid_card(sdk);
}

fn assert_valid_card(card: &serde_json::Value) {
    let schema = chaos::scorecard::scorecard_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator.iter_errors(card).map(|error| error.to_string()).collect();
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn a_bad_target_file_is_refused_at_its_line_and_column_and_nothing_starts() {
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("gateway.yaml");
    std::fs::write(
        &target,
        "name: g\ngateway: { url: \"http://127.0.0.1:4000\" }\nupstreams:\n  a: { api: openai, role: primary }\n  b: { api: anthropc, role: fallback }\nmodel: m\n",
    )
    .unwrap();
    let out = folder.path().join("out");
    let (code, _, stderr) =
        chaos(&["scorecard", "--target", target.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("gateway.yaml:5:") && stderr.contains("anthropic"), "{stderr}");
    assert!(!out.exists(), "nothing was written");
    let (code, _, stderr) = chaos(&["scorecard", "--target", "builtin:sloppy"]);
    assert!(code == 2 && stderr.contains("naive"), "{stderr}");
}

/// The example target's quick suite, generated and checked (no gateway runs), in the folder
/// that holds its scenario files.
fn example_plans(file: &str) -> (tempfile::TempDir, Vec<(&'static str, chaos::scenario::Plan)>) {
    let example = crate::support::root().join(file);
    assert!(Path::new(&example).is_file());
    let target = chaos::suite::target_file::SuiteTarget::read(&example).expect("the example reads");
    let out = tempfile::tempdir().unwrap();
    let options = chaos::suite::SuiteOptions {
        quick: true,
        speed: chaos::speed::Speed::REAL_TIME,
        out: out.path().to_owned(),
    };
    let plans = chaos::suite::prepare(&target, &options).unwrap().expect("every scenario checks");
    // All but key exhaustion: the examples pool no keys for their primary.
    let ids: Vec<&str> = plans.iter().map(|(id, _)| *id).collect();
    let expected: Vec<&str> =
        chaos::scorecard::rubric::SCENARIOS.iter().copied().filter(|id| *id != "key_exhaustion").collect();
    assert_eq!(ids, expected);
    (out, plans)
}

#[test]
fn the_example_litellm_target_generates_scenarios_that_check() {
    example_plans("examples/scorecard/litellm.yaml");
}

#[test]
fn the_example_portkey_target_sends_its_config_naming_each_runs_upstreams() {
    let (_folder, plans) = example_plans("examples/scorecard/portkey.yaml");
    for (id, plan) in plans {
        let addrs: Vec<std::net::SocketAddr> =
            plan.upstreams.iter().map(|upstream| upstream.listen).collect();
        let filled = plan.with_upstreams_filled(&addrs).expect("the config names the upstreams");
        let shape = filled.load.mix.kinds()[0].shape.clone().expect("the request has headers");
        let (name, value) = &shape.headers[0];
        assert_eq!(name.as_str(), "x-portkey-config", "{id}");
        let values = chaos::scenario::request_shape::RequestValues {
            request_id: 1,
            key: "sk-target",
            model: "gpt-4o-mini",
            max_tokens: Some(20),
            prompt: "",
        };
        let mut sent = Vec::new();
        value.write_raw(&values, &mut sent);
        let config: serde_json::Value = serde_json::from_slice(&sent).expect("the config is JSON");
        assert_eq!(config["strategy"]["mode"], "fallback", "{id}");
        let hosts: Vec<&str> = config["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["custom_host"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = addrs.iter().map(|addr| format!("http://{addr}/v1")).collect();
        assert_eq!(hosts, expected, "{id}: each target at its upstream's interposer");
        assert_eq!(config["targets"][0]["api_key"], "sk-chaos-openai-0", "{id}");
        let written = std::fs::read_to_string(&plan.file).unwrap();
        assert!(
            written.contains("{{upstreams.openai.key}}") && !written.contains("sk-chaos-openai-0"),
            "{id}: the scenario on disk names the key, never holds it"
        );
    }
}

#[test]
fn the_committed_scorecard_schemas_are_what_chaos_schema_prints() {
    assert_schema_committed("scorecard", "schemas/scorecard.v1.json", "the scorecard types", "");
    assert_schema_committed(
        "scorecard-compare",
        "schemas/scorecard-compare.v1.json",
        "the comparison's types",
        "",
    );
    assert_schema_committed(
        "scorecard-target",
        "schemas/scorecard-target.json",
        "the target file's types",
        "",
    );
}
