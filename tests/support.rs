//! Helpers shared by the integration tests.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A checked plan from scenario text (panics with the error: tests only).
pub fn plan(yaml: &str) -> chaos::scenario::Plan {
    chaos::scenario::parse(yaml, Path::new("test.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the `chaos` binary with arguments; returns (exit code, stdout, stderr).
pub fn chaos(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the chaos binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A `chaos run` of `yaml` through the binary, into a temporary folder.
pub struct BinaryRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The scenario file and the reports root, as passed on the command line.
    pub scenario: String,
    pub reports: String,
    _folder: tempfile::TempDir,
}

impl BinaryRun {
    /// The run's folder, once it has written one.
    pub fn run_folder(&self) -> PathBuf {
        let entry = std::fs::read_dir(&self.reports).expect("reports").next().expect("a run folder");
        entry.expect("a readable entry").path()
    }

    /// Its `results.json`, checked against the schema.
    pub fn results(&self) -> serde_json::Value {
        let file = self.run_folder().join("results.json");
        assert_valid_results(&file);
        serde_json::from_slice(&std::fs::read(&file).expect("results.json")).expect("JSON")
    }
}

/// Writes `yaml` to a temporary scenario file and runs `chaos run FILE --reports DIR` on it.
pub fn run_binary(yaml: &str) -> BinaryRun {
    run_binary_with(yaml, &[])
}

/// [`run_binary`] with more options after the others.
pub fn run_binary_with(yaml: &str, options: &[&str]) -> BinaryRun {
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("scenario.yaml");
    std::fs::write(&scenario, yaml).expect("scenario written");
    let (scenario, reports) = (scenario.to_string_lossy().into_owned(), folder.path().join("reports"));
    let reports = reports.to_string_lossy().into_owned();
    let mut args = vec!["run", scenario.as_str(), "--reports", reports.as_str()];
    args.extend_from_slice(options);
    let (code, stdout, stderr) = chaos(&args);
    BinaryRun { code, stdout, stderr, scenario, reports, _folder: folder }
}

/// The recorder's attempts once `count` of them are in: an attempt is recorded when its answer's
/// body is dropped, a moment after the client read it. Waits at most two seconds.
pub async fn settled_attempts(
    recorder: &chaos::metrics::Recorder,
    count: usize,
) -> Vec<chaos::metrics::AttemptRecord> {
    for _ in 0..200 {
        let attempts = recorder.snapshot().attempts;
        if attempts.len() >= count {
            return attempts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    recorder.snapshot().attempts
}

/// An interposer on `127.0.0.1:0` in front of `upstream` (an `http://` URI), with no faults.
pub fn interposer(
    upstream: &str,
    keys: Vec<String>,
    recorder: &chaos::metrics::Recorder,
) -> impl std::future::Future<Output = chaos::proxy::InterposerHandle> {
    let config = chaos::proxy::InterposerConfig {
        upstream_index: 0,
        upstream_uri: upstream.parse().expect("an upstream URI"),
        family: chaos::wire::ApiFamily::OpenAi,
        keys,
        clock: chaos::metrics::RunClock::start_now(),
        recorder: recorder.clone(),
        replay: None,
    };
    async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        chaos::proxy::spawn(listener, config).expect("interposer starts")
    }
}

/// Runs a scenario in-process until it ends or `shutdown` resolves, writing under a temporary
/// folder (kept alive by the returned handle).
pub async fn run_until(
    yaml: &str,
    shutdown: impl std::future::Future<Output = ()>,
) -> (chaos::runner::RunReport, tempfile::TempDir) {
    run_plan(&plan(yaml), shutdown).await
}

/// Runs a checked plan in-process until it ends or `shutdown` resolves, under a temporary
/// folder (kept alive by the returned handle); its results.json must match the schema.
pub async fn run_plan(
    plan: &chaos::scenario::Plan,
    shutdown: impl std::future::Future<Output = ()>,
) -> (chaos::runner::RunReport, tempfile::TempDir) {
    let reports = tempfile::tempdir().expect("temp dir");
    let options = chaos::runner::RunOptions::new(reports.path().to_owned());
    let report = chaos::runner::execute(plan, &options, shutdown).await.expect("the run completes");
    assert_valid_results(&report.folder.join("results.json"));
    (report, reports)
}

/// What the results schema finds wrong with a document, one line per error with its place.
pub fn schema_errors(results: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&chaos::report::results_schema()).expect("the results schema compiles")
    });
    validator
        .iter_errors(results)
        .map(|error| format!("at {:?}: {error}", error.instance_path().as_str()))
        .collect()
}

/// Panics unless the results file at `path` is JSON that the results schema accepts.
pub fn assert_valid_results(path: &Path) {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let results = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let errors = schema_errors(&results);
    assert!(
        errors.is_empty(),
        "{} does not match the results schema:\n{}",
        path.display(),
        errors.join("\n")
    );
}
