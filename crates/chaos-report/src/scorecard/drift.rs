//! The scorecard's schema-drift test, as `results.json` has one: `schemas/scorecard.v<N>.json`
//! of each released version is pinned by its digest, and the types must generate the current
//! version's file byte for byte, so a field cannot change without a new version.

use super::{scorecard_schema, scorecard_schema_file, SCORECARD_VERSION};

/// Released versions of `scorecard.json`'s schema, with the FNV-1a (64-bit) digest of each file.
const PINNED: &[(u32, u64)] = &[(1, 0x8970efcb54904b11)];

/// The committed file of `version`, read from the repository's `schemas/`.
fn committed_file(version: u32) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../schemas/scorecard.v{version}.json"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn digest(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[test]
fn each_released_scorecard_schema_keeps_its_digest() {
    for &(version, pinned) in PINNED {
        let now = digest(&committed_file(version));
        assert_eq!(now, pinned, "schemas/scorecard.v{version}.json was edited ({now:#018x}); it is released");
    }
}

#[test]
fn the_scorecard_types_generate_the_current_committed_schema() {
    assert!(
        PINNED.iter().any(|&(version, _)| version == SCORECARD_VERSION),
        "pin {}",
        scorecard_schema_file()
    );
    let generated = serde_json::to_string_pretty(&scorecard_schema()).expect("JSON") + "\n";
    assert!(
        generated.as_bytes() == committed_file(SCORECARD_VERSION),
        "the scorecard types no longer generate {}: bump SCORECARD_VERSION",
        scorecard_schema_file()
    );
}
