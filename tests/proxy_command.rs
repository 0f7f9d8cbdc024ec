//! `chaos proxy` as a user runs it, in front of `chaos mock`: faults given on the command line
//! fire per request, and on Ctrl-C it prints what it saw — counted from per-second tallies, so a
//! proxy left running for a game day keeps no record per attempt.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
};

/// Starts `chaos ARGS` and returns it with the `http://` address on its first line.
fn start(args: &[&str]) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chaos starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a first line");
    let addr = line.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).expect("an address");
    (child, addr.trim_end_matches('/').to_owned(), out)
}

#[test]
fn the_standalone_proxy_applies_its_faults_and_counts_outcomes_on_ctrl_c() {
    let (mut mock, mock_addr, _mock_out) = start(&["mock", "--openai", "127.0.0.1:0"]);
    let upstream = format!("http://{mock_addr}");
    let (mut proxy, proxy_addr, mut proxy_out) = start(&[
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &upstream,
        "--threads",
        "2",
        "--fault",
        "{ status: 429, every: 2 }",
    ]);
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let statuses: Vec<u16> = (0..6)
        .map(|_| {
            let headers = [("authorization", "Bearer sk-test"), ("content-type", "application/json")];
            crate::support::http(&proxy_addr, "POST", "/v1/chat/completions", &headers, body).0
        })
        .collect();
    assert_eq!(statuses, [200, 429, 200, 429, 200, 429], "every second request is refused");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(proxy.id() as i32), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    let mut rest = String::new();
    proxy_out.read_to_string(&mut rest).expect("the summary");
    assert!(proxy.wait().expect("exits").success(), "{rest}");
    assert!(rest.contains(r#"attempts: {"200":3,"429 (injected)":3}"#), "{rest}");
    let _ = mock.kill();
    let _ = mock.wait();
}

/// `chaos proxy --bare-relay`, the floor `chaos bench` measures the interposer against: a POST
/// goes through it to the mock and back unchanged, and what it cannot do is refused before it
/// listens (TLS, faults, an upstream beyond loopback without the flag).
#[test]
fn the_bare_relay_carries_requests_and_refuses_what_it_cannot_do() {
    let (mut mock, mock_addr, _mock_out) = start(&["mock", "--openai", "127.0.0.1:0"]);
    let upstream = format!("http://{mock_addr}");
    let (mut relay, relay_addr, _relay_out) =
        start(&["proxy", "--listen", "127.0.0.1:0", "--upstream", &upstream, "--bare-relay"]);
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let headers = [("authorization", "Bearer sk-test"), ("content-type", "application/json")];
    let (status, answer) = crate::support::http(&relay_addr, "POST", "/v1/chat/completions", &headers, body);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""object":"chat.completion""#), "the mock's answer came back: {answer}");
    let _ = relay.kill();
    let _ = relay.wait();
    let _ = mock.kill();
    let _ = mock.wait();

    let listen = ["proxy", "--listen", "127.0.0.1:0", "--bare-relay", "--upstream"];
    let refused = |extra: &[&str], says: &str| {
        let (code, _, stderr) = crate::support::chaos(&[&listen[..], extra].concat());
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    };
    refused(&["https://127.0.0.1:9"], "speaks no TLS");
    refused(&["http://127.0.0.1:9", "--fault", "{ status: 500 }"], "cannot be used with");
    refused(&["http://10.1.2.3:9"], "must be loopback");
}
