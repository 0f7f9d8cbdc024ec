//! The SDK tier: the official Python SDKs (openai-python, anthropic-python, pinned in
//! `tests/sdk/requirements.txt`) against `chaos mock` run as a subprocess. `scripts/python-venv` makes
//! the virtualenv `target/sdk-venv` (PyPI on the first run, a no-op after), then pytest runs
//! `tests/sdk` with `CHAOS_BIN` set to the binary under test. It needs Python 3.10+ with `venv`,
//! and fails, never skips, without it.

use std::process::{Command, Output};

use crate::support::root;

const INSTALL_HINT: &str = "the SDK tier needs Python 3.10+ with venv and pip, and PyPI reachable on \
                            the first run (Debian: apt-get install python3 python3-venv)";

#[test]
fn official_python_sdks_against_the_mocks() {
    let root = root();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&python).arg("--version"), &format!("`{python} --version`"), INSTALL_HINT);
    run(
        Command::new(root.join("scripts/python-venv")).args(["sdk-venv", "tests/sdk/requirements.txt"]),
        "scripts/python-venv sdk-venv",
        INSTALL_HINT,
    );

    let pytest = run(
        Command::new(root.join("target/sdk-venv/bin/python"))
            .args(["-m", "pytest", "tests/sdk", "-q", "-rxX", "-p", "no:cacheprovider"])
            .env("CHAOS_BIN", env!("CARGO_BIN_EXE_chaos"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(&root),
        "pytest tests/sdk",
        "a test of the SDK tier failed: see pytest's report below",
    );
    println!("{}", String::from_utf8_lossy(&pytest.stdout));
}

/// Runs a command to completion; panics with its output and `hint` unless it succeeds.
pub fn run(command: &mut Command, what: &str, hint: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("could not start {what}: {e}; {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "{what} failed ({}); {hint}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    output
}
