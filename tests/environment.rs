//! `results.json` says where the run ran: OS, kernel, CPUs, build, and the command line that
//! started it (through the binary, so it is the real one); a results file written before
//! `environment` existed still reads.

use crate::support::{assert_valid_results, chaos};

const TINY: &str = r#"
name: environment
upstreams: { openai: { mock: openai } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases: [{ name: only, duration: 1s }]
"#;

#[test]
fn a_run_records_its_machine_build_and_command_line() {
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("tiny.yaml");
    std::fs::write(&scenario, TINY).expect("written");
    let reports = folder.path().join("reports");
    let (scenario, reports) = (scenario.to_string_lossy(), reports.to_string_lossy());
    let (code, _, stderr) = chaos(&["run", &scenario, "--reports", &reports]);
    assert_eq!(code, 0, "{stderr}");
    let run = std::fs::read_dir(&*reports).expect("reports").next().expect("a run folder").expect("entry");
    let file = run.path().join("results.json");
    assert_valid_results(&file);
    let mut results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("results.json")).expect("JSON");

    let environment = &results["environment"];
    assert_eq!(
        environment["command_line"],
        serde_json::json!(["chaos", "run", scenario, "--reports", reports])
    );
    assert_eq!(environment["os"], std::env::consts::OS);
    assert_eq!(environment["arch"], std::env::consts::ARCH);
    assert!(environment["cpus"].as_u64().is_some_and(|n| n >= 1), "{environment}");
    assert!(environment["rustc"].as_str().is_some_and(|v| v.starts_with("rustc ")), "{environment}");
    assert!(environment.get("hostname").is_none(), "the host's name is not recorded");

    // A file from before `environment` and `methods` were written still renders.
    let object = results.as_object_mut().expect("an object");
    object.remove("environment");
    object.remove("methods");
    std::fs::write(&file, serde_json::to_vec(&results).expect("JSON")).expect("rewritten");
    let (code, _, stderr) = chaos(&["report", &file.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
}
