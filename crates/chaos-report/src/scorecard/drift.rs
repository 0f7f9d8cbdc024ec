//! The schema-drift tests of the scorecard's documents, as `results.json` has one:
//! `schemas/<name>.v<N>.json` of each released version of `scorecard.json` and of `chaos
//! scorecard compare --format json` is pinned by its digest, and the types must generate the
//! current version's file byte for byte, so a field cannot change without a new version.

use super::{compare, scorecard_schema, SCORECARD_VERSION};

/// One document's released schemas.
struct Pinned {
    /// The file's name before `.v<N>.json`.
    name: &'static str,
    /// Each released version with the FNV-1a (64-bit) digest of its file.
    versions: &'static [(u32, u64)],
    current: u32,
    generate: fn() -> serde_json::Value,
}

const DOCUMENTS: &[Pinned] = &[
    Pinned {
        name: "scorecard",
        versions: &[(1, 0x8970efcb54904b11)],
        current: SCORECARD_VERSION,
        generate: scorecard_schema,
    },
    Pinned {
        name: "scorecard-compare",
        versions: &[(1, 0xae5b055849baeda7)],
        current: compare::COMPARISON_VERSION,
        generate: compare::comparison_schema,
    },
];

/// The committed file of `version`, read from the repository's `schemas/`.
fn committed_file(name: &str, version: u32) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../schemas/{name}.v{version}.json"));
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
    for document in DOCUMENTS {
        for &(version, pinned) in document.versions {
            let now = digest(&committed_file(document.name, version));
            let name = document.name;
            assert_eq!(
                now, pinned,
                "schemas/{name}.v{version}.json was edited ({now:#018x}); it is released"
            );
        }
    }
}

#[test]
fn the_scorecard_types_generate_the_current_committed_schemas() {
    for document in DOCUMENTS {
        let (name, current) = (document.name, document.current);
        assert!(
            document.versions.iter().any(|&(version, _)| version == current),
            "pin schemas/{name}.v{current}.json"
        );
        let generated = serde_json::to_string_pretty(&(document.generate)()).expect("JSON") + "\n";
        assert!(
            generated.as_bytes() == committed_file(name, current),
            "the types no longer generate schemas/{name}.v{current}.json: bump its version"
        );
    }
}
