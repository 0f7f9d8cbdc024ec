//! Stage 3, play: walks the phases by the run clock until they end or something stops the run
//! early — an interrupt, an expectation that failed for good (`abort_on_fail`), a halt
//! condition, or an emergency stop on the control API; a skipped phase (control API) gives the
//! interposers the shortened timeline. Hands [`Stopped`], how the walk ended, to
//! [`super::drain`].

use std::{future::Future, pin::Pin, sync::Arc};

use crate::{
    assert,
    metrics::{Recorder, RunClock},
    monitor::{self, Halt},
    ops::control::ControlEvent,
    proxy::InterposerHandle,
    scenario::Plan,
};

use super::{start::Started, RunOptions};

/// How the phases ended.
pub(super) struct Stopped {
    /// Whether Ctrl-C stopped the run.
    pub interrupted: bool,
    /// The expectation whose failure stopped the run (`abort_on_fail`), as written.
    pub aborted_by: Option<String>,
    /// The halt condition (or emergency stop) that stopped the run.
    pub halted_by: Option<Halt>,
}

impl Stopped {
    /// Whether anything stopped the run before its phases ended.
    pub fn early(&self) -> bool {
        self.interrupted || self.aborted_by.is_some() || self.halted_by.is_some()
    }
}

/// Runs the phases of the plan in `run.state`, switching the zones lost with `refuse`, until
/// the last one ends or the run is stopped.
pub(super) async fn play<S: Future<Output = ()>>(
    run: &mut Started,
    options: &RunOptions,
    mut shutdown: Pin<&mut S>,
) -> Stopped {
    let Started { state, interposers, ops, clock, books, .. } = run;
    let (clock, recorder) = (*clock, &books.recorder);
    let mut stopped = Stopped { interrupted: false, aborted_by: None, halted_by: None };
    let mut failure = early_failure(state.plan(), recorder, clock);
    let mut watching = std::pin::pin!(monitor::watch(state, options.progress));
    let mut index = 0;
    loop {
        let running = state.plan();
        let Some(phase) = running.phases.get(index) else { break };
        tracing::info!(phase = %phase.name, "phase started");
        // A zone lost with `refuse` is switched by this loop, so it starts a little after the
        // boundary (the chains switch exactly, by the clock).
        for (interposer, dark) in interposers.iter().zip(&phase.dark) {
            interposer.set_refusing(*dark && !options.dry_run);
        }
        tokio::select! {
            () = tokio::time::sleep_until(clock.at(phase.end())) => index += 1,
            () = shutdown.as_mut() => {
                stopped.interrupted = true;
                break;
            }
            failed = &mut failure => {
                tracing::warn!(expectation = %failed.expectation.text, "failed: stopping the run (abort_on_fail)");
                stopped.aborted_by = Some(failed.expectation.text);
                break;
            }
            halt = &mut watching => {
                tracing::warn!(condition = %halt.condition, "halt condition held: removing every fault");
                stopped.halted_by = Some(halt);
                break;
            }
            Some(event) = ops.events.recv() => match event {
                ControlEvent::SkipPhase => {
                    let Some(skipped) = running.skipped_at(clock.elapsed()) else { continue };
                    tracing::warn!(phase = %phase.name, "phase skipped (control API)");
                    skip_to(&skipped, interposers, options.dry_run);
                    recorder.reschedule(skipped.phase_ends());
                    state.set_plan(skipped);
                    failure = early_failure(state.plan(), recorder, clock);
                    index += 1;
                }
                ControlEvent::Stop { by } => {
                    tracing::warn!(%by, "emergency stop: removing every fault");
                    let halt = Halt::stop(by, clock.elapsed(), phase.name.clone());
                    let mut progress = options.progress;
                    progress.halted(&halt);
                    stopped.halted_by = Some(halt);
                    break;
                }
            },
        }
    }
    stopped
}

/// Gives every interposer the timeline of a plan whose phase in force was cut short.
fn skip_to(plan: &Plan, interposers: &[InterposerHandle], dry_run: bool) {
    if dry_run {
        return;
    }
    for (index, interposer) in interposers.iter().enumerate() {
        interposer.set_timeline(super::start::timeline(plan, index));
    }
}

/// The first expectation of `plan` that failed for good (with `abort_on_fail`); never, without.
fn early_failure(
    plan: Arc<Plan>,
    recorder: &Recorder,
    clock: RunClock,
) -> std::pin::Pin<Box<dyn Future<Output = assert::Check> + Send>> {
    let recorder = recorder.clone();
    Box::pin(async move {
        match plan.abort_on_fail {
            true => assert::early::first_failure(&plan, &recorder, clock).await,
            false => std::future::pending().await,
        }
    })
}
