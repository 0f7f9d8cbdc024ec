//! The progress display of `chaos run`: where the run is (phase, time left) and how it goes
//! (requests/s, errors, p99, burn rate, spend). On a terminal it is one line on stderr,
//! redrawn every second; otherwise (a CI log) a plain line every [`LOG_EVERY`] seconds.

use std::io::{IsTerminal, Write};

use crate::{
    analysis::live::LiveFigures,
    report::cells::{self, optional},
    scenario::Plan,
};

use super::Halt;

/// Seconds between lines when stderr is not a terminal.
pub const LOG_EVERY: u64 = 10;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Redrawn in place on a terminal.
    Live,
    /// A line every [`LOG_EVERY`] seconds.
    Lines,
    /// Not shown (tests, embedding).
    Off,
}

impl Progress {
    /// `Live` on a terminal, `Lines` otherwise.
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Live
        } else {
            Progress::Lines
        }
    }

    pub fn show(&mut self, plan: &Plan, live: &LiveFigures) {
        let line = line(plan, live);
        let mut err = std::io::stderr().lock();
        let _ = match self {
            Progress::Live => write!(err, "\r\x1b[2K{line}"),
            Progress::Lines if (live.elapsed_s as u64).is_multiple_of(LOG_EVERY) => writeln!(err, "{line}"),
            Progress::Lines | Progress::Off => Ok(()),
        };
        let _ = err.flush();
    }

    /// Says that a halt condition fired.
    pub fn halted(&mut self, halt: &Halt) {
        if *self == Progress::Off {
            return;
        }
        let newline = if *self == Progress::Live { "\n" } else { "" };
        match &halt.by {
            Some(by) => {
                eprintln!("{newline}STOP at {} ({by}): removing every fault and stopping", clock(halt.at_s))
            }
            None => eprintln!(
                "{newline}HALT at {}: `{}` held ({}); removing every fault and stopping",
                clock(halt.at_s),
                halt.condition,
                halt.observed
            ),
        }
    }

    /// Ends the redrawn line so what follows starts on its own.
    pub fn finish(&self) {
        if *self == Progress::Live {
            eprintln!();
        }
    }
}

/// `1:05`.
fn clock(seconds: f64) -> String {
    let whole = seconds as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

/// One line of progress.
pub fn line(plan: &Plan, live: &LiveFigures) -> String {
    let elapsed = std::time::Duration::from_secs_f64(live.elapsed_s);
    let phase = &plan.phases[plan.phase_at(elapsed)];
    let left = phase.end().saturating_sub(elapsed).as_secs();
    format!(
        "[{} / {}] {} ({left}s left) · {:.1} req/s · errors {} · p99 {} · burn {} · spent {}",
        clock(live.elapsed_s),
        clock(plan.duration().as_secs_f64()),
        phase.name,
        live.requests_per_s,
        optional(live.error_rate, cells::percent),
        optional(live.latency_ms.map(|p| p.p99 / 1000.0), cells::seconds),
        optional(live.burn_rate_5m, cells::ratio),
        optional(live.spent_usd, cells::dollars),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;

    #[test]
    fn a_line_says_where_the_run_is_and_how_it_goes() {
        let (plan, aggregate) = test_support::calm_then_down_folded(40, 20);
        let live =
            crate::analysis::live::live_figures(&plan, &aggregate, std::time::Duration::from_millis(50_500));
        assert_eq!(
            line(&plan, &live),
            "[0:50 / 1:00] down (9s left) · 10.0 req/s · errors 33.33% · p99 20.0ms · burn 20.00 · spent $0.08400"
        );
    }
}
