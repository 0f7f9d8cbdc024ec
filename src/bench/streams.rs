//! How many concurrent streams one mock holds on time: a `chaos mock` child paced at a given
//! token rate, N streaming chat completions opened over a second, and the gap between
//! consecutive content events measured here against the intended 1/speed.
//!
//! The same streams are then held, in the same run, on `chaos mock --bare-streams`
//! ([`crate::mock::bare`]): the mock's own events, paced by the same timer, written straight to
//! the socket with no HTTP stack. That is the floor of this machine and runtime; what the mock
//! adds is the difference.
//!
//! Each server keeps its own account, read from `/_chaos/timing`: each event's lateness
//! (written − due) and its inter-token error (the gap since the stream's previous event as the
//! server wrote them − the intended gap). The server's own inter-token error is the figure the
//! target is about. The client runs on the same machine, so the error it sees adds its own
//! scheduling on the same cores: an upper bound, reported beside it.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};

use super::child::{cpu_seconds_of, this_executable, ChildServer};
use crate::{
    load::observe::{observe_raw, Observation},
    metrics::RunClock,
    mock::TIMING_PATH,
    net::http1::{ask, Origin, Readiness},
    wire::ApiFamily,
};

/// The streams to hold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StreamLoad {
    /// Concurrent streams.
    pub streams: u32,
    /// Content events per stream.
    pub tokens: u32,
    /// Tokens per second each stream is paced at.
    pub tokens_per_second: u32,
}

/// What the streams saw, on the mock and on the bare floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StreamFigures {
    pub load: StreamLoad,
    /// `chaos mock`.
    pub mock: PacedStreams,
    /// `chaos mock --bare-streams`: the same events and pacing with no HTTP stack, the floor.
    pub bare: PacedStreams,
}

/// One server's streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PacedStreams {
    /// Content events received, of `streams × tokens`.
    pub events_received: u64,
    /// The server's own inter-token error: |gap − intended gap| between consecutive events of
    /// a stream as it wrote them, milliseconds.
    pub inter_token_error_ms: Option<ErrorPercentiles>,
    /// |gap − 1/speed| between consecutive content events as this client saw them,
    /// milliseconds: the server's error plus the measuring client's own.
    pub client_seen_inter_token_error_ms: Option<ErrorPercentiles>,
    /// The server's own lateness (written − due), milliseconds; it includes tokio's ~1 ms timer
    /// rounding, a constant offset that does not show in the gaps.
    pub lateness_ms: Option<ErrorPercentiles>,
    /// The server's peak RSS, megabytes.
    pub peak_rss_mb: Option<f64>,
    /// CPU seconds: the server's, and this process's (the measuring client), over the run.
    pub cpu_s: Option<f64>,
    pub client_cpu_s: Option<f64>,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// p50, p99, p99.9 and the largest, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorPercentiles {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl ErrorPercentiles {
    fn of_micros(h: &Histogram<u64>) -> ErrorPercentiles {
        let ms = |micros: u64| micros as f64 / 1000.0;
        ErrorPercentiles {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// Holds `load` on a paced `chaos mock` (this executable), then on its bare floor.
pub async fn measure(load: StreamLoad) -> anyhow::Result<StreamFigures> {
    measure_with(&this_executable()?, load).await
}

/// [`measure`], the servers started by `command` (a chaos executable, perhaps behind a
/// wrapper such as `taskset -c 0 …`).
pub async fn measure_with(command: &[String], load: StreamLoad) -> anyhow::Result<StreamFigures> {
    let speed = load.tokens_per_second.max(1).to_string();
    let mock_args = ["mock", "--openai", "127.0.0.1:0", "--tokens-per-second", &speed];
    let bare_args = ["mock", "--openai", "127.0.0.1:0", "--tokens-per-second", &speed, "--bare-streams"];
    // Whichever server was held first in a process showed 5–10× the error of the second, even
    // when both were the bare floor: a warming up of this machine and client that a short round
    // (10 tokens a stream) did not cover. So a whole round goes first and is thrown away.
    hold(command, &bare_args, load).await?;
    let mock = hold(command, &mock_args, load).await?;
    let bare = hold(command, &bare_args, load).await?;
    Ok(StreamFigures { load, mock, bare })
}

/// Starts the server `args` ask for and holds `load` on it.
async fn hold(command: &[String], args: &[&str], load: StreamLoad) -> anyhow::Result<PacedStreams> {
    let server = ChildServer::start_command(command, args).await?;
    let client = crate::net::http_client::<Full<Bytes>>();
    let errors = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?));
    let expected_gap_us = 1_000_000 / u64::from(load.tokens_per_second.max(1));
    let origin = Origin { host: server.addr.ip().to_string(), port: server.addr.port() };
    let request = stream_request(&server.addr.to_string(), load.tokens);
    let (server_cpu0, client_cpu0) = (server.cpu_seconds(), cpu_seconds_of("self"));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..load.streams {
        // Spread the opening over a second so the accept queue never overflows.
        let offset = Duration::from_micros(u64::from(index) * 1_000_000 / u64::from(load.streams.max(1)));
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + offset)).await;
        let (origin, request, errors) = (origin.clone(), request.clone(), Arc::clone(&errors));
        tasks.spawn(async move {
            let observation = stream(&origin, &request).await?;
            let mut errors = errors.lock().unwrap_or_else(|p| p.into_inner());
            for gap in &observation.gaps_us {
                let _ = errors.record(u64::from(*gap).abs_diff(expected_gap_us).max(1));
            }
            Some(observation.output_tokens)
        });
    }
    let mut events_received = 0;
    while let Some(events) = tasks.join_next().await {
        events_received += events.ok().flatten().unwrap_or(0);
    }
    let seconds = started.elapsed().as_secs_f64();
    let timing = server_timing(&client, &server).await.ok();
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner());
    Ok(PacedStreams {
        events_received,
        inter_token_error_ms: timing.as_ref().and_then(|t| percentiles_in(&t["gap_error"]).ok()),
        client_seen_inter_token_error_ms: (!errors.is_empty()).then(|| ErrorPercentiles::of_micros(&errors)),
        lateness_ms: timing.as_ref().and_then(|t| percentiles_in(t).ok()),
        peak_rss_mb: server.peak_rss_mb(),
        cpu_s: server.cpu_seconds().zip(server_cpu0).map(|(after, before)| after - before),
        client_cpu_s: cpu_seconds_of("self").zip(client_cpu0).map(|(after, before)| after - before),
        seconds,
    })
}

/// The streaming chat completion each stream asks for, as bytes.
fn stream_request(host: &str, tokens: u32) -> Bytes {
    let body = format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{tokens}}}"#
    );
    Bytes::from(format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer sk-bench\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// Asks for one streamed chat completion on a connection of its own and reads it to its end
/// as the load generator does ([`observe_raw`]: a content event is timed when the read that
/// brought it returned, and counted as a token, the mock sending no `usage`). `None` when no
/// answer came.
async fn stream(origin: &Origin, request: &[u8]) -> Option<Observation> {
    let mut connection = None;
    let head = ask(origin, &mut connection, request, false, false, Readiness::Unseen).await?;
    let connection = connection.as_mut()?;
    let (observation, _) =
        observe_raw(connection, &head, ApiFamily::OpenAi, true, RunClock::start_now()).await;
    Some(observation)
}

/// A server's own account of its paced events.
async fn server_timing(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    server: &ChildServer,
) -> anyhow::Result<serde_json::Value> {
    let request =
        http::Request::get(format!("http://{}{TIMING_PATH}", server.addr)).body(Full::new(Bytes::new()))?;
    let body = client.request(request).await?.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&body)?)
}

/// The `p50_ms` … `max_ms` of one part of a server's timing account.
fn percentiles_in(timing: &serde_json::Value) -> anyhow::Result<ErrorPercentiles> {
    let field = |name: &str| timing[name].as_f64().with_context(|| format!("{TIMING_PATH} has no {name}"));
    Ok(ErrorPercentiles {
        p50: field("p50_ms")?,
        p99: field("p99_ms")?,
        p999: field("p999_ms")?,
        max: field("max_ms")?,
    })
}
