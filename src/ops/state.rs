//! What the operations surfaces (live metrics, the control API) read of a run in progress: the
//! plan as it is being run (a skipped phase moves the later ones), the run clock, the recorder,
//! the latest live figures the monitor computed, and whether the run was halted.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};

use arc_swap::ArcSwap;

use crate::{
    analysis::live::LiveFigures,
    metrics::{Recorder, RunClock},
    scenario::Plan,
};

/// A run in progress, shared between the runner, the monitor and the servers.
#[derive(Debug)]
pub struct RunState {
    plan: ArcSwap<Plan>,
    pub clock: RunClock,
    pub recorder: Recorder,
    figures: Mutex<Option<LiveFigures>>,
    halted: AtomicBool,
    dry_run: bool,
}

impl RunState {
    pub fn new(plan: Plan, clock: RunClock, recorder: Recorder, dry_run: bool) -> Arc<Self> {
        Arc::new(RunState {
            plan: ArcSwap::from_pointee(plan),
            clock,
            recorder,
            figures: Mutex::new(None),
            halted: AtomicBool::new(false),
            dry_run,
        })
    }

    /// The plan as it is being run.
    pub fn plan(&self) -> Arc<Plan> {
        self.plan.load_full()
    }

    /// Replaces the plan being run (a phase was skipped).
    pub fn set_plan(&self, plan: Plan) {
        self.plan.store(Arc::new(plan));
    }

    /// The index of the phase in force now.
    pub fn phase(&self) -> usize {
        self.plan().phase_at(self.clock.elapsed())
    }

    /// The monitor's latest figures.
    pub fn figures(&self) -> Option<LiveFigures> {
        self.figures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn set_figures(&self, figures: LiveFigures) {
        *self.figures.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(figures);
    }

    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::Relaxed)
    }

    pub fn set_halted(&self) {
        self.halted.store(true, Ordering::Relaxed);
    }

    /// Whether no fault may fire (`--dry-run`).
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
}
