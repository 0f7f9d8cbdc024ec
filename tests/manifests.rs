//! The Kubernetes manifests of `deploy/kubernetes/`: each validates, offline and strictly, against
//! the Kubernetes schemas (PyPI `kubernetes-validate`, pinned in `tests/manifests/requirements.txt`,
//! installed by `scripts/python-venv` into `target/manifests-venv`; it fails, never skips, when it
//! cannot install), an invalid one is refused, and the properties the schemas cannot see hold:
//! N agreed in three places, no privileges, the network policy's two doors, a valid scenario.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::{sdk_tier::run, support::root};

/// The Kubernetes version the manifests are held to: `backoffLimitPerIndex` is GA from 1.33.
const KUBERNETES: &str = "1.33.0";

const INSTALL_HINT: &str = "the manifests check needs Python 3.10+ with venv and pip, and PyPI reachable on \
                            the first run (Debian: apt-get install python3 python3-venv)";

const FOLDER: &str = "deploy/kubernetes";

/// `kubernetes-validate --strict` on `files`: its exit status and its report. The venv is made
/// once a process, so two tests never install into it at once.
fn validate(files: &[&Path]) -> (bool, String) {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    let root = root();
    INSTALLED.call_once(|| {
        let mut install = Command::new(root.join("scripts/python-venv"));
        install.args(["manifests-venv", "tests/manifests/requirements.txt"]);
        run(&mut install, "scripts/python-venv manifests-venv", INSTALL_HINT);
    });
    let output = Command::new(root.join("target/manifests-venv/bin/kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", KUBERNETES])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("kubernetes-validate does not start: {e}; {INSTALL_HINT}"));
    let report =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), report)
}

/// Every document of a manifest file, as JSON.
fn documents(file: &str) -> Vec<Value> {
    let path = root().join(FOLDER).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The one document of `kind` in `file`.
fn resource(file: &str, kind: &str) -> Value {
    let found = documents(file).into_iter().find(|doc| doc["kind"] == kind);
    found.unwrap_or_else(|| panic!("{FOLDER}/{file} has no {kind}"))
}

/// The manifest files in the folder, sorted.
fn manifest_files() -> Vec<String> {
    let folder = root().join(FOLDER);
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .expect("deploy/kubernetes/")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas_offline() {
    let folder = root().join(FOLDER);
    let paths: Vec<_> = manifest_files().iter().map(|file| folder.join(file)).collect();
    let (valid, report) = validate(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    assert!(valid, "kubernetes-validate refused a manifest:\n{report}");
    for resource in ["deployment/chaos-upstreams", "service/chaos-upstreams", "job/chaos-load"] {
        assert!(
            report.contains(&format!("passed for resource {resource}")),
            "{resource} was not checked:\n{report}"
        );
    }
    let checked = report.matches(" passed for resource ").count();
    assert_eq!(
        checked, 7,
        "two ConfigMaps, a Deployment, a Service, a Job and two NetworkPolicies:\n{report}"
    );
}

#[test]
fn a_misspelt_field_fails_the_schema_check() {
    let text = std::fs::read_to_string(root().join(FOLDER).join("load-job.yaml")).expect("load-job.yaml");
    assert!(text.contains("parallelism: "), "the Job sets its parallelism");
    let folder = tempfile::tempdir().expect("temp dir");
    let invalid = folder.path().join("load-job.yaml");
    std::fs::write(&invalid, text.replace("parallelism: ", "paralelism: ")).expect("written");
    let (valid, report) = validate(&[&invalid]);
    assert!(!valid, "a Job with `paralelism` passed:\n{report}");
    assert!(report.contains("'paralelism' was unexpected"), "the error names the field:\n{report}");
}

#[test]
fn the_load_is_an_indexed_job_of_as_many_shards_as_the_upstreams_expect() {
    let settings = resource("settings.yaml", "ConfigMap");
    let shards: u64 =
        settings["data"]["CHAOS_SHARDS"].as_str().expect("CHAOS_SHARDS").parse().expect("a number");
    let job = resource("load-job.yaml", "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], shards, "completions = CHAOS_SHARDS");
    assert_eq!(job["spec"]["parallelism"], shards, "parallelism = CHAOS_SHARDS");
    assert_eq!(job["spec"]["backoffLimitPerIndex"], 0, "a dead shard is not replayed");
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let args = container(&job)["args"].to_string();
    assert!(args.contains(r#""--shard","$(JOB_COMPLETION_INDEX)/$(CHAOS_SHARDS)""#), "{args}");
    assert!(args.contains(r#""--coordinator","http://chaos-upstreams:7474""#), "{args}");
    let upstreams = container(&resource("upstreams.yaml", "Deployment"))["args"].to_string();
    assert!(upstreams.contains(r#""--role","upstreams","--shards","$(CHAOS_SHARDS)""#), "{upstreams}");
}

/// The one container of a workload's pod template.
fn container(workload: &Value) -> &Value {
    let containers = workload["spec"]["template"]["spec"]["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "one container, the chaos image");
    &containers[0]
}

#[test]
fn every_pod_runs_unprivileged_within_its_resources() {
    for workload in [resource("upstreams.yaml", "Deployment"), resource("load-job.yaml", "Job")] {
        let pod = &workload["spec"]["template"]["spec"];
        let name = &workload["metadata"]["name"];
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}: no service-account token");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        let chaos = container(&workload);
        let context = &chaos["securityContext"];
        assert_eq!(context["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(context["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(context["capabilities"]["drop"], serde_json::json!(["ALL"]), "{name}");
        for bound in ["requests", "limits"] {
            for what in ["cpu", "memory"] {
                assert!(chaos["resources"][bound][what].is_string(), "{name}: resources.{bound}.{what}");
            }
        }
        let mounts = chaos["volumeMounts"].to_string();
        assert!(mounts.contains(r#""mountPath":"/tmp""#), "{name}: a writable /tmp (the preflight's folder)");
    }
}

#[test]
fn only_the_gateway_reaches_the_interposers_and_only_the_shards_the_control_port() {
    let policies = documents("network-policy.yaml");
    let upstreams = resource("upstreams.yaml", "Deployment");
    let load = resource("load-job.yaml", "Job");
    let guarding = |workload: &Value| {
        let labels = &workload["spec"]["template"]["metadata"]["labels"];
        let policy = policies.iter().find(|p| selects(&p["spec"]["podSelector"], labels));
        policy.unwrap_or_else(|| panic!("no policy selects {}", workload["metadata"]["name"])).clone()
    };
    let rules = guarding(&upstreams)["spec"]["ingress"].as_array().expect("ingress rules").clone();
    let ports = |rule: &Value| -> Vec<u64> {
        rule["ports"].as_array().expect("ports").iter().map(|p| p["port"].as_u64().expect("a port")).collect()
    };
    assert_eq!(rules.len(), 2, "two doors: {rules:?}");
    assert_eq!(ports(&rules[0]), [9101, 9102], "the interposers");
    assert!(!selects(&rules[0]["from"][0]["podSelector"], &load["spec"]["template"]["metadata"]["labels"]));
    assert_eq!(ports(&rules[1]), [7474], "the control port");
    assert!(selects(&rules[1]["from"][0]["podSelector"], &load["spec"]["template"]["metadata"]["labels"]));
    assert_eq!(guarding(&load)["spec"]["ingress"], serde_json::json!([]), "nothing connects to a shard");
}

/// Whether a `matchLabels` selector selects pods with `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let wanted = selector["matchLabels"].as_object().expect("matchLabels");
    wanted.iter().all(|(key, value)| &labels[key] == value)
}

#[test]
fn the_scenario_in_the_config_map_is_a_valid_scenario() {
    let map = resource("scenario.yaml", "ConfigMap");
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("scenario.yaml");
    std::fs::write(&scenario, map["data"]["scenario.yaml"].as_str().expect("data.scenario.yaml"))
        .expect("written");
    let (code, stdout, stderr) =
        crate::support::chaos(&["validate", &scenario.to_string_lossy(), "--allow-remote"]);
    assert_eq!(code, 0, "chaos validate refused the ConfigMap's scenario:\n{stdout}{stderr}");
}

#[test]
fn the_kustomization_applies_every_standing_manifest_and_not_the_job() {
    let kustomization = &documents("kustomization.yaml")[0];
    let mut listed: Vec<String> =
        serde_json::from_value(kustomization["resources"].clone()).expect("resources");
    listed.sort();
    let standing: Vec<String> =
        manifest_files().into_iter().filter(|f| f != "kustomization.yaml" && f != "load-job.yaml").collect();
    assert_eq!(listed, standing, "the Job is created once the upstreams role is up, apart");
}
