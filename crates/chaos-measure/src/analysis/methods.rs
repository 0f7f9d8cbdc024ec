//! How the figures that depend on a method were measured, written into `results.json` beside
//! them so a reader of the file alone knows what a number means.

use std::collections::BTreeMap;

/// The figure each note is about, and the note.
pub const NOTES: &[(&str, &str)] = &[
    (
        "join",
        "Attempts count in their logical request's phase when the correlation id (the \
         x-chaos-request-id header, or the body's user / metadata.user_id) survived the target; \
         otherwise in the phase active at the interposer when they arrived. Each window's `join` \
         says which method its figures used.",
    ),
    (
        "retry_after_compliance",
        "Only attempts joined by correlation id count. An attempt whose answer carried \
         retry-after-ms (else retry-after) and that is followed by another attempt of the same \
         logical request at the same upstream makes that next attempt a retry asked to wait; it \
         complied when it arrived at the interposer at least the asked wait after the asking \
         answer's body ended at the interposer. A fallback to another upstream is not a retry of \
         the one that asked. Counted in the logical request's phase.",
    ),
    (
        "duplicate_calls",
        "Only attempts joined by correlation id count. A logical request is a duplicate when more \
         than one of its attempts got a 2xx head from the upstream itself (a fault's answer does \
         not count): generation paid for more than once, usually an attempt the target gave up on \
         that the upstream answered anyway. Attempts recorded more than 60 s after their logical \
         request ended are not joined.",
    ),
];

/// The notes as `results.json` carries them.
pub fn notes() -> BTreeMap<String, String> {
    NOTES.iter().map(|(figure, note)| ((*figure).to_owned(), (*note).to_owned())).collect()
}
