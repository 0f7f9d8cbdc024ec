//! Reading the files a scenario is made of (the scenario itself, a `body_file`, a
//! `keys_file`) without trusting their size: at most [`MAX_FILE_BYTES`] are read, so
//! `chaos validate /dev/zero` or a log file named by mistake is refused at once instead of
//! filling memory.

use std::{fmt, io::Read, path::Path};

/// The most a scenario's file may hold: 4 MiB. The library's largest scenario is under 4 KB
/// and a request body a few KB; 4 MiB leaves a thousand times that.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file could not be read as a scenario's text; each reads after the file's name.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    TooLarge,
    NotText,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(error) => write!(f, "cannot be read: {error}"),
            ReadError::TooLarge => write!(
                f,
                "is larger than {} MiB, the most a scenario's file may hold",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            ReadError::NotText => write!(f, "is not UTF-8 text"),
        }
    }
}

/// The text of `path`, reading at most one byte past [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_after_reading_just_past_the_cap() {
        let error = read_text(Path::new("/dev/zero")).expect_err("refused");
        assert!(matches!(error, ReadError::TooLarge), "{error}");
        assert_eq!(error.to_string(), "is larger than 4 MiB, the most a scenario's file may hold");
    }

    #[test]
    fn a_file_at_the_cap_reads_and_binary_does_not() {
        let folder = tempfile::tempdir().unwrap();
        let at_cap = folder.path().join("big.yaml");
        std::fs::write(&at_cap, "#".repeat(MAX_FILE_BYTES as usize)).unwrap();
        assert_eq!(read_text(&at_cap).unwrap().len() as u64, MAX_FILE_BYTES);
        let binary = folder.path().join("bin.yaml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(read_text(&binary), Err(ReadError::NotText)));
        let missing = read_text(&folder.path().join("missing.yaml")).expect_err("missing");
        assert!(missing.to_string().starts_with("cannot be read: "), "{missing}");
    }
}
