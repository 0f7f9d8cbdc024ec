//! Servers sharded over a current-thread runtime per thread, each shard with its own
//! `SO_REUSEPORT` listener on one address (`chaos proxy` and `chaos mock` serve this way):
//! connections reach every shard, going dark and coming back and shutdown reach them all, and
//! what the shards record lands in one place.
//!
//! The servers here run on their own threads, so the tests talk to them with blocking sockets
//! (`support::http`) without starving them.

use std::{collections::BTreeSet, io::Read, net::SocketAddr, time::Duration};

use bytes::Bytes;
use chaos::{
    metrics::{AttemptOutcome, Recorder},
    mock::MockBuilder,
    net::Abort,
    wire::ApiFamily,
};
use http_body_util::Full;

use crate::support::{http, settled_attempts};

/// Enough connections that all of them landing on one of two shards would be a 1-in-2⁶³ fluke.
const CONNECTIONS: usize = 64;

/// A server on two shards whose answer names the shard that served it.
fn two_named_shards() -> chaos::net::ServerHandle {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    chaos::net::spawn_sharded(addr, 2, Default::default(), |index| {
        move |_request| async move {
            Ok::<_, Abort>(http::Response::new(Full::new(Bytes::from(format!("shard {index}")))))
        }
    })
    .expect("shards start")
}

/// Which shards answered `count` requests, each on a connection of its own.
fn shards_answering(addr: SocketAddr, count: usize) -> BTreeSet<String> {
    (0..count).map(|_| http(&addr.to_string(), "GET", "/", &[], "")).map(|(_, body)| body).collect()
}

#[tokio::test]
async fn every_shard_serves_goes_dark_comes_back_and_shuts_down() {
    let server = two_named_shards();
    let addr = server.addr;
    let shards =
        tokio::task::spawn_blocking(move || shards_answering(addr, CONNECTIONS)).await.expect("served");
    assert_eq!(shards, BTreeSet::from(["shard 0".to_owned(), "shard 1".to_owned()]));

    let mut open: Vec<std::net::TcpStream> =
        (0..8).map(|_| std::net::TcpStream::connect(addr).expect("connect while listening")).collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.set_refusing(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = std::net::TcpStream::connect(addr).expect_err("dark: refused on every shard");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    for stream in &mut open {
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let read = stream.read(&mut [0u8; 16]);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "every open connection is reset, whichever shard held it: {read:?}"
        );
    }

    server.set_refusing(false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shards =
        tokio::task::spawn_blocking(move || shards_answering(addr, CONNECTIONS)).await.expect("served");
    assert_eq!(shards.len(), 2, "both shards listen again on the same port: {shards:?}");

    tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await.expect("every shard stops in time");
    let refused = std::net::TcpStream::connect(addr).expect_err("stopped: refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_sharded_interposer_records_every_attempt_of_every_shard() {
    let localhost: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let mock = MockBuilder::new(ApiFamily::OpenAi).serve_sharded(localhost, 2).expect("mock starts");
    let recorder = Recorder::new();
    let config = crate::support::interposer_config(&format!("http://{}", mock.addr), Vec::new(), &recorder);
    let interposer = chaos::proxy::spawn_sharded(localhost, 2, config).expect("interposer starts");
    let authority = interposer.addr.to_string();
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":4}"#;
    let statuses = tokio::task::spawn_blocking(move || {
        (0..CONNECTIONS)
            .map(|_| {
                http(&authority, "POST", "/v1/chat/completions", &[("authorization", "Bearer sk")], body).0
            })
            .collect::<Vec<u16>>()
    })
    .await
    .expect("answered");
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");

    let attempts = settled_attempts(&recorder, CONNECTIONS).await;
    assert_eq!(attempts.len(), CONNECTIONS, "one record per request, whichever shard served it");
    assert!(attempts.iter().all(|attempt| attempt.outcome == AttemptOutcome::Status(200)));
    assert_eq!(mock.counters().requests(), CONNECTIONS as u64, "the mock's shards count into one place");
    interposer.shutdown().await;
    mock.shutdown().await;
}
