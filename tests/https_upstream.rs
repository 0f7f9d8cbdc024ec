//! An interposer in front of an HTTPS upstream — what a game day in front of a real provider
//! needs — over real sockets: a TLS server on loopback with a certificate for `localhost`
//! signed by nobody the Mozilla roots know. Trusted through `--upstream-ca`-style extra roots,
//! requests pass through (auth kept, `Host` naming the upstream, bodies byte-identical); with
//! only the Mozilla roots, the certificate is refused and the target gets the interposer's 502.

use std::convert::Infallible;

use bytes::Bytes;
use chaos::{
    metrics::{AttemptOutcome, Recorder},
    proxy::{tls::UpstreamTls, InterposerConfig, InterposerHandle},
};
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, Request, Response};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

use crate::support::{interposer_config, interposer_with, settled_attempts, tls_server};

/// A TLS server (see [`tls_server`]) that answers every request with what it received: the
/// `Host`, the `authorization`, the path and the body's length.
async fn tls_upstream() -> (u16, String) {
    tls_server(echo).await
}

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let header =
        |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (host, authorization, path) =
        (header("host"), header("authorization"), request.uri().path().to_owned());
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let answer =
        serde_json::json!({ "host": host, "authorization": authorization, "path": path, "body": body.len() });
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .expect("a response"))
}

async fn interposer(port: u16, tls: UpstreamTls, recorder: &Recorder) -> InterposerHandle {
    let upstream = format!("https://localhost:{port}");
    interposer_with(InterposerConfig { tls, ..interposer_config(&upstream, Vec::new(), recorder) }).await
}

const BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

/// A chat completion posted in plain HTTP to the interposer, as a gateway would.
async fn post(interposer: &InterposerHandle) -> (u16, serde_json::Value) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{}/v1/chat/completions", interposer.addr))
        .header("authorization", "Bearer sk-test-secret")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(BODY)))
        .expect("request");
    let response = client.request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn a_trusted_https_upstream_gets_the_request_with_its_own_host_and_the_caller_s_key() {
    let (port, pem) = tls_upstream().await;
    let folder = tempfile::tempdir().expect("temp dir");
    let ca = folder.path().join("ca.pem");
    std::fs::write(&ca, pem).expect("written");
    let recorder = Recorder::new();
    let interposer = interposer(port, UpstreamTls::with_ca_file(&ca).expect("a CA file"), &recorder).await;

    let (status, echoed) = post(&interposer).await;

    assert_eq!(status, 200, "{echoed}");
    assert_eq!(echoed["host"], format!("localhost:{port}"), "Host names the upstream, not the interposer");
    assert_eq!(echoed["authorization"], "Bearer sk-test-secret");
    assert_eq!(echoed["path"], "/v1/chat/completions");
    assert_eq!(echoed["body"], BODY.len(), "the body arrived whole");
    let attempts = settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].outcome, AttemptOutcome::Status(200));
    assert!(!attempts[0].injected);
}

#[tokio::test]
async fn an_upstream_certificate_nobody_trusts_is_refused_with_the_interposer_s_502() {
    let (port, _pem) = tls_upstream().await;
    let recorder = Recorder::new();
    let interposer = interposer(port, UpstreamTls::default(), &recorder).await;

    let (status, answer) = post(&interposer).await;

    assert_eq!(status, 502);
    assert_eq!(answer["error"]["code"], "upstream_unreachable", "{answer}");
    let attempts = settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].outcome, AttemptOutcome::Unreachable);
}
