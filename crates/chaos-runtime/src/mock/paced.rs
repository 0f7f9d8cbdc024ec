//! A response body that writes each event at its due time: an [`EventScript`] says what comes
//! next and when (an offset from the response's start), and the body sleeps until then.
//!
//! No task and no channel per stream: the body is polled by the connection that writes it,
//! which is what lets one mock hold thousands of concurrent streams.
//!
//! Each event's lateness (when it was handed to the connection minus when it was due) and its
//! gap error (the time since the stream's previous event minus the intended gap) go into a
//! shared [`Lateness`], so a mock can say how well it kept time. The gap error is what a client
//! feels between tokens: a constant lateness (tokio's timer rounds every sleep up to its next
//! millisecond) does not show in it.

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

/// How late paced events were, and how far the gaps between a stream's events were from the
/// intended ones, in microseconds, over every stream of one mock.
#[derive(Clone, Default)]
pub struct Lateness {
    histograms: Arc<Mutex<LatenessHistograms>>,
}

struct LatenessHistograms {
    late: Histogram<u64>,
    gap_error: Histogram<u64>,
}

impl Default for LatenessHistograms {
    fn default() -> Self {
        let histogram = || Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid");
        LatenessHistograms { late: histogram(), gap_error: histogram() }
    }
}

/// Microseconds, within the histograms' bounds.
fn micros(duration: Duration) -> u64 {
    (duration.as_micros() as u64).clamp(1, 60_000_000)
}

/// One stream's account of its events' timing, kept in a shared [`Lateness`].
pub struct EventClock {
    lateness: Lateness,
    /// The previous event's due and written instants.
    previous: Option<(Instant, Instant)>,
}

impl EventClock {
    pub fn new(lateness: Lateness) -> Self {
        EventClock { lateness, previous: None }
    }

    /// The event due at `due` is being written now.
    pub fn written(&mut self, due: Instant) {
        let written = Instant::now();
        let gap_error = self.previous.map(|(previous_due, previous_written)| {
            let gap = written.saturating_duration_since(previous_written);
            gap.abs_diff(due.saturating_duration_since(previous_due))
        });
        self.lateness.record(written.saturating_duration_since(due), gap_error);
        self.previous = Some((due, written));
    }
}

impl Lateness {
    fn record(&self, late: Duration, gap_error: Option<Duration>) {
        let mut histograms = self.histograms.lock().unwrap_or_else(|p| p.into_inner());
        histograms.late.saturating_record(micros(late));
        if let Some(gap_error) = gap_error {
            histograms.gap_error.saturating_record(micros(gap_error));
        }
    }

    /// `{"events", "p50_ms", "p99_ms", "p999_ms", "max_ms", "gap_error": {"gaps", "p50_ms", …}}`:
    /// lateness at the top level, the gap error under `gap_error`.
    pub fn to_json(&self) -> serde_json::Value {
        let histograms = self.histograms.lock().unwrap_or_else(|p| p.into_inner());
        let ms = |micros: u64| micros as f64 / 1000.0;
        let percentiles = |h: &Histogram<u64>, count: &str| {
            serde_json::json!({
                count: h.len(),
                "p50_ms": ms(h.value_at_quantile(0.5)),
                "p99_ms": ms(h.value_at_quantile(0.99)),
                "p999_ms": ms(h.value_at_quantile(0.999)),
                "max_ms": ms(h.max()),
            })
        };
        let mut json = percentiles(&histograms.late, "events");
        json["gap_error"] = percentiles(&histograms.gap_error, "gaps");
        json
    }
}

/// A body that writes a script's events on time.
pub struct PacedBody {
    script: Box<dyn EventScript>,
    start: Instant,
    next: Option<(Instant, Bytes)>,
    sleep: Pin<Box<Sleep>>,
    clock: EventClock,
}

impl PacedBody {
    /// Starts the clock now; every event's lateness goes into `lateness`.
    pub fn new(script: impl EventScript, lateness: Lateness) -> Self {
        let start = Instant::now();
        let sleep = Box::pin(tokio::time::sleep_until(start));
        PacedBody { script: Box::new(script), start, next: None, sleep, clock: EventClock::new(lateness) }
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
            this.clock.written(due);
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

    #[tokio::test(start_paused = true)]
    async fn an_event_written_late_shows_as_gap_errors_on_both_sides_of_it() {
        let lateness = Lateness::default();
        let mut body = PacedBody::new(Every100ms(0), lateness.clone());
        body.frame().await; // e1 at 100 ms
        tokio::time::sleep(Duration::from_millis(130)).await;
        body.frame().await; // e2 due at 200 ms, written at 230 ms: a gap of 130 ms
        body.frame().await; // e3 at 300 ms: a gap of 70 ms
        let timing = lateness.to_json();
        let about_30_ms =
            |value: &serde_json::Value| value.as_f64().is_some_and(|ms| (ms - 30.0).abs() < 0.1);
        assert!(about_30_ms(&timing["max_ms"]), "e2 was 30 ms late: {timing}");
        assert_eq!(timing["gap_error"]["gaps"], 2, "{timing}");
        assert!(about_30_ms(&timing["gap_error"]["p50_ms"]), "both gaps were 30 ms off: {timing}");
    }
}
