//! How many concurrent streams one mock holds on time: a `chaos mock` child paced at a given
//! token rate, N streaming chat completions opened over a second, and the gap between
//! consecutive content events measured here against the intended 1/speed.
//!
//! The client runs on the same machine, so its own scheduling noise is in the figure: an upper
//! bound on the mock's error. The mock's own account — when each event was written minus when
//! it was due, from `/_chaos/timing` — is reported beside it.

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

/// What the streams saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StreamFigures {
    pub load: StreamLoad,
    /// Content events received, of `streams × tokens`.
    pub events_received: u64,
    /// |gap − 1/speed| between consecutive content events, as this client saw them,
    /// milliseconds: p50, p99, p99.9, max.
    pub inter_token_error_ms: Option<ErrorPercentiles>,
    /// The mock's own lateness (written − due), milliseconds; it includes tokio's ~1 ms timer
    /// rounding, a constant offset that does not show in the gaps.
    pub mock_lateness_ms: Option<ErrorPercentiles>,
    /// The mock's peak RSS, megabytes.
    pub mock_peak_rss_mb: Option<f64>,
    /// CPU seconds: the mock's, and this process's (the measuring client), over the run.
    pub mock_cpu_s: Option<f64>,
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

/// Starts a paced `chaos mock` (this executable) and holds `load` on it.
pub async fn measure(load: StreamLoad) -> anyhow::Result<StreamFigures> {
    measure_with(&this_executable()?, load).await
}

/// [`measure`], the mock started by `command` (a chaos executable, perhaps behind a wrapper
/// such as `taskset -c 0 …`).
pub async fn measure_with(command: &[String], load: StreamLoad) -> anyhow::Result<StreamFigures> {
    let speed = load.tokens_per_second.max(1).to_string();
    let args = ["mock", "--openai", "127.0.0.1:0", "--tokens-per-second", &speed];
    let mock = ChildServer::start_command(command, &args).await?;
    let client = crate::net::http_client::<Full<Bytes>>();
    let errors = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?));
    let expected_gap = Duration::from_secs_f64(1.0 / f64::from(load.tokens_per_second.max(1)));
    let url = format!("http://{}/v1/chat/completions", mock.addr);
    let body = Bytes::from(format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{}}}"#,
        load.tokens
    ));
    let (mock_cpu0, client_cpu0) = (mock.cpu_seconds(), cpu_seconds_of("self"));
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
    let mock_lateness_ms = mock_lateness(&client, &mock).await.ok();
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner());
    Ok(StreamFigures {
        load,
        events_received,
        inter_token_error_ms: (!errors.is_empty()).then(|| ErrorPercentiles::of_micros(&errors)),
        mock_lateness_ms,
        mock_peak_rss_mb: mock.peak_rss_mb(),
        mock_cpu_s: mock.cpu_seconds().zip(mock_cpu0).map(|(after, before)| after - before),
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

/// The mock's own account of its paced events.
async fn mock_lateness(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    mock: &ChildServer,
) -> anyhow::Result<ErrorPercentiles> {
    let request =
        http::Request::get(format!("http://{}{TIMING_PATH}", mock.addr)).body(Full::new(Bytes::new()))?;
    let body = client.request(request).await?.into_body().collect().await?.to_bytes();
    let timing: serde_json::Value = serde_json::from_slice(&body)?;
    let field = |name: &str| timing[name].as_f64().with_context(|| format!("{TIMING_PATH} has no {name}"));
    Ok(ErrorPercentiles {
        p50: field("p50_ms")?,
        p99: field("p99_ms")?,
        p999: field("p999_ms")?,
        max: field("max_ms")?,
    })
}
