//! A response body that writes each event at its due time: an [`EventScript`] says what comes
//! next and when (an offset from the response's start), and the body sleeps until then.
//!
//! No task and no channel per stream: the body is polled by the connection that writes it,
//! which is what lets one mock hold thousands of concurrent streams.
//!
//! Each event's lateness (when it was handed to the connection minus when it was due) goes
//! into a shared [`Lateness`] histogram, so a mock can say how well it kept time.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use hdrhistogram::Histogram;
use hyper::body::{Body, Frame};
use tokio::time::{Instant, Sleep};

/// The events of one streamed response, in order, each with its offset from the start.
pub trait EventScript: Send + 'static {
    fn next_event(&mut self) -> Option<(Duration, Bytes)>;
}

/// How late paced events were, in microseconds, over every stream of one mock.
#[derive(Clone)]
pub struct Lateness {
    histogram: Arc<Mutex<Histogram<u64>>>,
}

impl Default for Lateness {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid");
        Lateness { histogram: Arc::new(Mutex::new(histogram)) }
    }
}

impl Lateness {
    fn record(&self, late: Duration) {
        let micros = (late.as_micros() as u64).clamp(1, 60_000_000);
        self.histogram.lock().unwrap_or_else(|p| p.into_inner()).saturating_record(micros);
    }

    /// `{"events", "p50_ms", "p99_ms", "p999_ms", "max_ms"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let h = self.histogram.lock().unwrap_or_else(|p| p.into_inner());
        let ms = |micros: u64| micros as f64 / 1000.0;
        serde_json::json!({
            "events": h.len(),
            "p50_ms": ms(h.value_at_quantile(0.5)),
            "p99_ms": ms(h.value_at_quantile(0.99)),
            "p999_ms": ms(h.value_at_quantile(0.999)),
            "max_ms": ms(h.max()),
        })
    }
}

/// A body that writes a script's events on time.
pub struct PacedBody {
    script: Box<dyn EventScript>,
    start: Instant,
    next: Option<(Instant, Bytes)>,
    sleep: Pin<Box<Sleep>>,
    lateness: Lateness,
}

impl PacedBody {
    /// Starts the clock now; every event's lateness goes into `lateness`.
    pub fn new(script: impl EventScript, lateness: Lateness) -> Self {
        let start = Instant::now();
        let sleep = Box::pin(tokio::time::sleep_until(start));
        PacedBody { script: Box::new(script), start, next: None, sleep, lateness }
    }
}

impl Body for PacedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.next.is_none() {
            let Some((offset, event)) = this.script.next_event() else {
                return Poll::Ready(None);
            };
            let due = this.start + offset;
            this.sleep.as_mut().reset(due);
            this.next = Some((due, event));
        }
        if this.next.as_ref().is_some_and(|(due, _)| *due > Instant::now()) {
            ready!(this.sleep.as_mut().poll(cx));
        }
        Poll::Ready(this.next.take().map(|(due, event)| {
            this.lateness.record(Instant::now().saturating_duration_since(due));
            Ok(Frame::data(event))
        }))
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    struct Every100ms(u32);

    impl EventScript for Every100ms {
        fn next_event(&mut self) -> Option<(Duration, Bytes)> {
            (self.0 < 3).then(|| {
                self.0 += 1;
                (Duration::from_millis(100 * u64::from(self.0)), Bytes::from(format!("e{}", self.0)))
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn events_arrive_at_their_offsets() {
        let start = Instant::now();
        let lateness = Lateness::default();
        let mut body = PacedBody::new(Every100ms(0), lateness.clone());
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            seen.push((String::from_utf8_lossy(&data).into_owned(), start.elapsed().as_millis()));
        }
        let expected: Vec<(String, u128)> = vec![("e1".into(), 100), ("e2".into(), 200), ("e3".into(), 300)];
        assert_eq!(seen, expected);
        assert_eq!(lateness.to_json()["events"], 3);
        assert_eq!(lateness.to_json()["max_ms"], 0.001, "paused time: every event exactly on time");
    }
}
