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
        "retry_after_honoured",
        "Over the same retries asked to wait as retry_after_compliance: the wait (from the asking \
         answer's end to the retry's arrival, at the interposer) is within tolerance of the ask when \
         it differs from it by at most max(10 % of the ask, 250 ms), either side; longer and \
         shorter are beyond that tolerance. A fixed backoff complies with a short ask but follows \
         only asks near its own waits.",
    ),
    (
        "retry_gap",
        "Only attempts joined by correlation id count. For each pair of consecutive attempts of one \
         logical request (by arrival at the interposers, whatever their upstreams): from the earlier \
         attempt's answer end at its interposer to the later attempt's arrival at its own, by the \
         later attempt's upstream. An attempt whose answer never ended (the target hung up first) \
         starts no gap. Counted in the logical request's phase.",
    ),
    (
        "failover",
        "Only attempts joined by correlation id count. Per logical request that moved off the \
         upstream its first attempt went to: from the end of its first failed answer there (an \
         error status, or a broken stream) to the arrival of its first attempt at another upstream \
         after it, at the interposers; counted in the logical request's phase even when the \
         fallback landed after the phase ended. time_to_failover is the phase's: from its start to \
         the first attempt of one of its requests that an upstream other than the primary served.",
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
