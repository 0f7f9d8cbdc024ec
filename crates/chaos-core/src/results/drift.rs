//! The schema-drift test: a field of a released schema version cannot change unnoticed.
//!
//! Each released version's schema, `schemas/results.v<N>.json`, is frozen: [`FROZEN`] pins a
//! digest of its bytes. The schema these types generate must be the file of
//! [`SCHEMA_VERSION`], byte for byte. So a change to a field here fails one way or the other:
//! regenerating `results.v1.json` to match breaks its pinned digest, and the only way through
//! is a new version — bump `SCHEMA_VERSION`, commit `schemas/results.v<N+1>.json` and pin its
//! digest below, leaving the older files as they were.

use super::{results_schema, results_schema_file, SCHEMA_VERSION};

/// Every released schema version, with the FNV-1a (64-bit) digest of its committed file.
const FROZEN: &[(u32, u64)] = &[
    (1, 0x9a67_ca79_7740_7518),
    (2, 0x4d77_e2bb_bc30_587f),
    (3, 0x7ccf_0510_532b_8cfc),
    (4, 0x374e_2e60_71d0_7ea0),
];

/// FNV-1a, 64 bits: enough to notice any edit of a file, with no dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The committed schema of `version`, in the repository's `schemas/` (two floors above this
/// crate's manifest).
fn committed(version: u32) -> String {
    let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = repository.join(format!("schemas/results.v{version}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn every_released_schema_is_frozen() {
    for &(version, digest) in FROZEN {
        let found = fnv1a(committed(version).as_bytes());
        assert_eq!(
            found, digest,
            "schemas/results.v{version}.json changed (digest {found:#018x}), but version {version} is \
             released: change the fields under a new SCHEMA_VERSION and a new file instead"
        );
    }
}

#[test]
fn the_types_generate_the_frozen_schema_of_the_current_version() {
    assert!(
        FROZEN.iter().any(|&(version, _)| version == SCHEMA_VERSION),
        "SCHEMA_VERSION {SCHEMA_VERSION} has no frozen schema: commit {} and pin its digest in FROZEN",
        results_schema_file()
    );
    let generated = serde_json::to_string_pretty(&results_schema()).expect("the schema is JSON") + "\n";
    assert!(
        generated == committed(SCHEMA_VERSION),
        "the results types no longer generate {}: a field changed without a schema version bump",
        results_schema_file()
    );
}

#[test]
fn the_digest_notices_a_renamed_field() {
    let schema = committed(SCHEMA_VERSION);
    let renamed = schema.replacen("\"retry_amplification\"", "\"retry_amplifcation\"", 1);
    assert_ne!(schema, renamed, "the field is in the schema");
    assert_ne!(fnv1a(schema.as_bytes()), fnv1a(renamed.as_bytes()));
}
