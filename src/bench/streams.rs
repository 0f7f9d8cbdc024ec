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
use crate::mock::TIMING_PATH;

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
    let expected_gap = Duration::from_secs_f64(1.0 / f64::from(load.tokens_per_second.max(1)));
    let url = format!("http://{}/v1/chat/completions", server.addr);
    let body = Bytes::from(format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{}}}"#,
        load.tokens
    ));
    let (server_cpu0, client_cpu0) = (server.cpu_seconds(), cpu_seconds_of("self"));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..load.streams {
        // Spread the opening over a second so the accept queue never overflows.
        let offset = Duration::from_micros(u64::from(index) * 1_000_000 / u64::from(load.streams.max(1)));
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + offset)).await;
        let (client, body, errors, url) = (client.clone(), body.clone(), Arc::clone(&errors), url.clone());
        tasks.spawn(async move {
            let request = http::Request::post(url)
                .header("authorization", "Bearer sk-bench")
                .header("content-type", "application/json")
                .body(Full::new(body))
                .ok()?;
            let response = client.request(request).await.ok()?;
            let gaps = content_gaps(response.into_body()).await;
            let mut errors = errors.lock().unwrap_or_else(|p| p.into_inner());
            for gap in &gaps.gaps {
                let _ = errors.record((gap.abs_diff(expected_gap).as_micros() as u64).max(1));
            }
            Some(gaps.events)
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

/// The content events of one streamed answer and the gaps between them.
struct ContentGaps {
    events: u64,
    gaps: Vec<Duration>,
}

/// Reads a streamed chat completion to its end, timing each content event's arrival (events
/// that arrive in one read share its instant; an empty content is not a token).
async fn content_gaps(mut body: hyper::body::Incoming) -> ContentGaps {
    let mut previous: Option<Instant> = None;
    let mut gaps = Vec::new();
    let mut events = 0;
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else { continue };
        let now = Instant::now();
        let contents = data.windows(11).filter(|w| *w == br#""content":""#).count();
        let empty = data.windows(12).filter(|w| *w == br#""content":"""#).count();
        for _ in 0..contents.saturating_sub(empty) {
            if let Some(previous) = previous {
                gaps.push(now.duration_since(previous));
            }
            previous = Some(now);
            events += 1;
        }
    }
    ContentGaps { events, gaps }
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
