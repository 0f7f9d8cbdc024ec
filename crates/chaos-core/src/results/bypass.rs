//! A target that goes around the interposers: a phase whose requests were sent while no attempt
//! reached any interposer measured nothing of what the scenario injects (a gateway with a wrong
//! base URL, say). Its run is invalid, never a pass, and the renderings say why. Derived from
//! the phases' own figures, so `results.json` needs no field of its own for it.

use super::Figures;

/// The phases that sent requests with no attempt at any interposer.
pub fn bypassed(phases: &[Figures]) -> impl Iterator<Item = &Figures> {
    phases.iter().filter(|phase| phase.logical_requests > 0 && phase.attempts == 0)
}

/// Why each bypassed phase makes the run invalid, one line each.
pub fn bypass_notes(phases: &[Figures]) -> Vec<String> {
    bypassed(phases)
        .map(|phase| {
            format!(
                "Invalid: in phase {}, {} requests were sent but none reached an interposer: the target \
                 goes around them, so no fault touched it. Point its base URL at the interposers (the \
                 addresses and lines printed before the run; fix them with `listen:`).",
                phase.name, phase.logical_requests
            )
        })
        .collect()
}
