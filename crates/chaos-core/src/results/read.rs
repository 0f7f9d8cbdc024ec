//! Reading a `results.json` back (for `chaos report`), with an error that names the file and
//! says what is wrong with it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Results, OLDEST_READABLE_VERSION, SCHEMA_VERSION};

/// Why a results file could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ResultsFileError {
    #[error("{}: cannot read the results: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{}: not a chaos results.json: {source}", path.display())]
    Invalid { path: PathBuf, source: serde_json::Error },
    #[error(
        "{}: results schema version {found}, but this chaos reads versions {OLDEST_READABLE_VERSION} to {SCHEMA_VERSION}",
        path.display()
    )]
    OtherVersion { path: PathBuf, found: u32 },
}

/// Just the version, read before the rest so a file of another version is named as such.
#[derive(Deserialize)]
struct Versioned {
    schema_version: u32,
}

impl Results {
    /// Reads a `results.json` written in any schema version from [`OLDEST_READABLE_VERSION`] to
    /// [`SCHEMA_VERSION`]; fields an older version lacks read as their defaults.
    pub fn read(path: &Path) -> Result<Results, ResultsFileError> {
        let invalid = |source| ResultsFileError::Invalid { path: path.to_owned(), source };
        let bytes = std::fs::read(path)
            .map_err(|source| ResultsFileError::Unreadable { path: path.to_owned(), source })?;
        let Versioned { schema_version } = serde_json::from_slice(&bytes).map_err(invalid)?;
        if !(OLDEST_READABLE_VERSION..=SCHEMA_VERSION).contains(&schema_version) {
            return Err(ResultsFileError::OtherVersion { path: path.to_owned(), found: schema_version });
        }
        serde_json::from_slice(&bytes).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_file_is_named_with_what_is_wrong() {
        let folder = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = folder.path().join(name);
            std::fs::write(&path, text).expect("written");
            path
        };
        let missing = folder.path().join("missing.json");
        let error = Results::read(&missing).unwrap_err().to_string();
        assert!(error.starts_with(&format!("{}: cannot read the results: ", missing.display())), "{error}");
        let garbage = write("garbage.json", "not json");
        let error = Results::read(&garbage).unwrap_err().to_string();
        assert!(error.starts_with(&format!("{}: not a chaos results.json: ", garbage.display())), "{error}");
        let newer = write("newer.json", r#"{ "schema_version": 4 }"#);
        let error = Results::read(&newer).unwrap_err().to_string();
        assert!(error.ends_with("results schema version 4, but this chaos reads versions 1 to 3"), "{error}");
        let partial = write("partial.json", r#"{ "schema_version": 1, "verdict": "pass" }"#);
        let error = Results::read(&partial).unwrap_err().to_string();
        assert!(error.contains("missing field"), "{error}");
    }
}
