//! `results.json` says where the run ran: OS, kernel, CPUs, build, and the command line that
//! started it (through the binary, so it is the real one); a results file written before
//! `environment` existed still reads.

use crate::support::{chaos, run_binary};

const TINY: &str = r#"
name: environment
upstreams: { openai: { mock: openai } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases: [{ name: only, duration: 1s }]
"#;

#[test]
fn a_run_records_its_machine_build_and_command_line() {
    let run = run_binary(TINY);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut results = run.results();

    let environment = &results["environment"];
    let command_line = serde_json::json!(["chaos", "run", run.scenario, "--reports", run.reports]);
    assert_eq!(environment["command_line"], command_line);
    assert_eq!(environment["os"], std::env::consts::OS);
    assert_eq!(environment["arch"], std::env::consts::ARCH);
    assert!(environment["cpus"].as_u64().is_some_and(|n| n >= 1), "{environment}");
    assert!(environment["rustc"].as_str().is_some_and(|v| v.starts_with("rustc ")), "{environment}");
    assert!(environment.get("hostname").is_none(), "the host's name is not recorded");

    // A file from before `environment` and `methods` were written still renders.
    let object = results.as_object_mut().expect("an object");
    object.remove("environment");
    object.remove("methods");
    let file = run.run_folder().join("results.json");
    std::fs::write(&file, serde_json::to_vec(&results).expect("JSON")).expect("rewritten");
    let (code, _, stderr) = chaos(&["report", &file.to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
}
