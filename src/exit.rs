//! Exit codes: what each way a command ends returns (the table in `docs/running.md`).

/// How `chaos` exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every expectation was met (or the scenario is valid, for `validate`).
    Pass = 0,
    /// An expectation failed.
    Failed = 1,
    /// The input is invalid: a scenario or command-line options (nothing started), or the
    /// results file given to `chaos report`.
    InvalidScenario = 2,
    /// The run is invalid: too few events for a verdict, or the generator fell behind.
    InvalidRun = 3,
    /// A halt condition stopped the run.
    Halted = 4,
    /// The harness itself failed (could not bind, could not write results).
    HarnessError = 70,
    /// Interrupted by Ctrl-C; partial results were still written.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}
