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

/// A port on 127.0.0.1 that was free a moment ago (bound on `:0`, then let go), for a fixed
/// address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Runs the `chaos` binary with arguments; returns (exit code, stdout, stderr).
pub fn chaos(args: &[&str]) -> (i32, String, String) {
    chaos_in_env(args, &[])
}

/// [`chaos`] with these environment variables set too.
pub fn chaos_in_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .envs(env.iter().copied())
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

/// [`run_binary`] with the environment variable `name` set to `value` for the run.
pub fn run_binary_in_env(yaml: &str, name: &str, value: &str) -> BinaryRun {
    run_binary_in(yaml, &[], &[(name, value)])
}

/// [`run_binary`] with these environment variables set for the run.
pub fn run_binary_in_envs(yaml: &str, env: &[(&str, &str)]) -> BinaryRun {
    run_binary_in(yaml, &[], env)
}

/// [`run_binary`] with more options after the others.
pub fn run_binary_with(yaml: &str, options: &[&str]) -> BinaryRun {
    run_binary_in(yaml, options, &[])
}

/// [`run_binary`] with more options after the others and these environment variables set.
pub fn run_binary_in(yaml: &str, options: &[&str], env: &[(&str, &str)]) -> BinaryRun {
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("scenario.yaml");
    std::fs::write(&scenario, yaml).expect("scenario written");
    let (scenario, reports) = (scenario.to_string_lossy().into_owned(), folder.path().join("reports"));
    let reports = reports.to_string_lossy().into_owned();
    let mut args = vec!["run", scenario.as_str(), "--reports", reports.as_str()];
    args.extend_from_slice(options);
    let (code, stdout, stderr) = chaos_in_env(&args, env);
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

/// The configuration of an interposer in front of `upstream` (a URI): upstream 0, OpenAI, no
/// replay, trusting the default roots.
pub fn interposer_config(
    upstream: &str,
    keys: Vec<String>,
    recorder: &chaos::metrics::Recorder,
) -> chaos::proxy::InterposerConfig {
    chaos::proxy::InterposerConfig {
        upstream_index: 0,
        upstream_uri: upstream.parse().expect("an upstream URI"),
        family: chaos::wire::ApiFamily::OpenAi,
        keys,
        clock: chaos::metrics::RunClock::start_now(),
        recorder: recorder.clone(),
        replay: None,
        tls: Default::default(),
        upstream_key: None,
        connections: Default::default(),
    }
}

/// An interposer on `127.0.0.1:0` with `config`, no faults.
pub async fn interposer_with(config: chaos::proxy::InterposerConfig) -> chaos::proxy::InterposerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    chaos::proxy::spawn(listener, config).expect("interposer starts")
}

/// An interposer on `127.0.0.1:0` in front of `upstream` (an `http://` URI), with no faults.
pub fn interposer(
    upstream: &str,
    keys: Vec<String>,
    recorder: &chaos::metrics::Recorder,
) -> impl std::future::Future<Output = chaos::proxy::InterposerHandle> {
    interposer_with(interposer_config(upstream, keys, recorder))
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
    run_plan_probed(plan, true, shutdown).await
}

/// Runs a scenario in-process to its end with no preflight: for stand-in targets that are not
/// gateways (a counting server, a web server answering 501), about something else than wiring.
pub async fn run_without_preflight(yaml: &str) -> (chaos::runner::RunReport, tempfile::TempDir) {
    run_plan_probed(&plan(yaml), false, std::future::pending()).await
}

async fn run_plan_probed(
    plan: &chaos::scenario::Plan,
    preflight: bool,
    shutdown: impl std::future::Future<Output = ()>,
) -> (chaos::runner::RunReport, tempfile::TempDir) {
    let reports = tempfile::tempdir().expect("temp dir");
    let options =
        chaos::runner::RunOptions { preflight, ..chaos::runner::RunOptions::new(reports.path().to_owned()) };
    let report = chaos::runner::execute(plan, &options, shutdown).await.expect("the run completes");
    assert_valid_results(&report.folder.join("results.json"));
    (report, reports)
}

/// What the results schema finds wrong with a document, one line per error with its place.
pub fn schema_errors(results: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    errors(VALIDATOR.get_or_init(|| validator(chaos::results::results_schema())), results)
}

/// What the scenario schema finds wrong with a scenario (as JSON), one line per error.
pub fn scenario_schema_errors(scenario: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    errors(VALIDATOR.get_or_init(|| validator(chaos::scenario::scenario_schema())), scenario)
}

fn validator(schema: serde_json::Value) -> jsonschema::Validator {
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("the schema compiles: {e}"))
}

/// Each error `validator` finds in `document`, with its place.
fn errors(validator: &jsonschema::Validator, document: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("at {:?}: {error}", error.instance_path().as_str()))
        .collect()
}

/// Every scenario `.yaml` under `folder`, recursively, except templates rendered for a target
/// and a gateway's own configs (`.config.yaml`).
pub fn scenario_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(scenario_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml")
            && ![".template.yaml", ".config.yaml"].iter().any(|end| path.to_string_lossy().ends_with(end))
        {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Runs `chaos schema <of>` and asserts it printed, quietly, exactly the committed `file`;
/// else says that `what` changed and how to regenerate the file (then `note`). Returns the
/// schema.
pub fn assert_schema_committed(of: &str, file: &str, what: &str, note: &str) -> serde_json::Value {
    let (code, stdout, stderr) = chaos(&["schema", of]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let committed = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(
        committed == stdout,
        "{file} differs from what `chaos schema {of}` prints: {what} changed. If the change is \
         meant, regenerate it with `cargo run -- schema {of} > {file}`{note}"
    );
    serde_json::from_str(&stdout).expect("the schema is JSON")
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

/// A `chaos run` of `yaml` through the binary, left running so a test can talk to it; stderr is
/// read line by line as it comes.
pub struct LiveBinary {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    pub reports: PathBuf,
    _folder: tempfile::TempDir,
}

impl LiveBinary {
    pub fn start(yaml: &str, options: &[&str]) -> LiveBinary {
        use std::io::BufRead;
        let folder = tempfile::tempdir().expect("temp dir");
        let scenario = folder.path().join("scenario.yaml");
        std::fs::write(&scenario, yaml).expect("scenario written");
        let reports = folder.path().join("reports");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chaos"))
            .arg("run")
            .arg(&scenario)
            .arg("--reports")
            .arg(&reports)
            .args(options)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the chaos binary runs");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        LiveBinary { child, lines, seen: Vec::new(), reports, _folder: folder }
    }

    /// What follows `prefix` on the first stderr line that starts with it (waits up to 30 s).
    pub fn line_after(&mut self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(line) = self.seen.iter().find_map(|line| line.strip_prefix(prefix)) {
                return line.trim().to_owned();
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no stderr line starting {prefix:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Waits for the run to end (up to 60 s); its exit code and `results.json`.
    pub fn finish(mut self) -> (i32, serde_json::Value) {
        let code = self.wait();
        let file = self.run_folder().join("results.json");
        assert_valid_results(&file);
        let results = serde_json::from_slice(&std::fs::read(&file).expect("results.json")).expect("JSON");
        (code, results)
    }

    /// Waits for the run to end (up to 60 s); its exit code. Its files stay until it is dropped.
    pub fn wait(&mut self) -> i32 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the run did not end");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        status.code().unwrap_or(-1)
    }

    /// The run's folder, once it has written one.
    pub fn run_folder(&self) -> PathBuf {
        let entry = std::fs::read_dir(&self.reports).expect("reports").next().expect("a run folder");
        entry.expect("an entry").path()
    }
}

impl Drop for LiveBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange with `authority` (`host:port`) over a plain socket: (status, body).
pub fn http(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let (head, body) = exchange(authority, method, path, headers, body);
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    (status, body)
}

/// One HTTP/1.1 exchange with `authority` over a plain socket, read to the connection's close:
/// the answer's head, and its body as framed on the wire (chunked or not). The `Host` is
/// `authority` unless `headers` name one.
pub fn exchange(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(authority).expect("connects");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("host: {authority}\r\n"));
    }
    request.push_str(&format!("connection: close\r\ncontent-length: {}\r\n", body.len()));
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("request sent");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_owned(), body.to_owned())
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A TLS server on 127.0.0.1 for `localhost`, its certificate signed by nobody the Mozilla roots
/// know, answering each request with `answer`. Returns its port and the certificate (PEM) a
/// client must trust (`--upstream-ca`).
pub async fn tls_server<F, Answer>(answer: F) -> (u16, String)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Answer + Clone + Send + Sync + 'static,
    Answer: std::future::Future<
            Output = Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible>,
        > + Send
        + 'static,
{
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(certified.cert.der().to_vec())], key)
        .expect("a server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, answer) = (acceptor.clone(), answer.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), hyper::service::service_fn(answer))
                    .await;
            });
        }
    });
    (port, pem)
}
