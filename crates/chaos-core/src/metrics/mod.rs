//! What a run observes: one record per logical request (from the load generator) and one per
//! attempt (from the interposers), gathered by a [`Recorder`] against one [`RunClock`].

mod aggregate;
pub mod attempt_timeline;
mod clock;
pub mod gaps;
pub mod hdr_base64;
pub mod joins;
pub mod journal;
mod key_totals;
mod keyed;
pub mod live;
pub mod micros;
mod percentiles;
mod record;
mod recorder;
pub mod replay;
mod tallies;
pub mod timeline;
mod tokens;
pub mod waits;

pub use aggregate::{Aggregate, PhaseTotals, SecondTotals};
pub use clock::RunClock;
pub use key_totals::KeyTotals;
pub use percentiles::{spectrum, Percentiles, SpectrumPoint, SPECTRUM_QUANTILES};
pub use record::{
    AnswerStats, AnswerTiming, AttemptOutcome, AttemptRecord, LogicalRecord, Outcome, TokenUsage,
};
pub use recorder::{Recorder, Records};
pub use tallies::Tallies;
pub use tokens::{ModelTally, ModelTokens, TokenTally};
