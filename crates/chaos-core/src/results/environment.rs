//! Where a run ran, recorded in `results.json` so a reader can judge its figures and run it
//! again: the OS and kernel, the CPU architecture and count, how the harness was built (profile
//! and compiler), and the command line, with secrets redacted.
//!
//! The host's name is left out on purpose: it can identify a person's machine or an internal
//! host, a results file travels (CI artifacts, pull requests), and nothing about reproducing or
//! judging a run needs it.

use serde::{Deserialize, Serialize};

use super::secrets::{is_secret_name, looks_secret, REDACTED};

/// The machine and build a run ran on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Environment {
    /// The operating system (`linux`, `macos`, `windows`).
    pub os: String,
    /// Its kernel release (`uname -r`), where known.
    pub kernel: Option<String>,
    /// The CPU architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// CPUs the harness could use (`available_parallelism`): figures from a busy or small
    /// machine are judged differently.
    pub cpus: Option<u64>,
    /// `release` or `debug`: a debug build measures itself as much as the target.
    pub build_profile: String,
    /// The compiler that built the harness (`rustc --version`), where known.
    pub rustc: Option<String>,
    /// The command line, program by file name only, with secret values replaced by
    /// `<redacted>`.
    pub command_line: Vec<String>,
}

impl Environment {
    /// This process's environment, run with `command_line` (program first).
    pub fn capture(command_line: &[String]) -> Self {
        Environment {
            os: std::env::consts::OS.to_owned(),
            kernel: kernel_release(),
            arch: std::env::consts::ARCH.to_owned(),
            cpus: std::thread::available_parallelism().ok().map(|n| n.get() as u64),
            build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned(),
            rustc: Some(env!("CHAOS_RUSTC_VERSION")).filter(|v| !v.is_empty()).map(str::to_owned),
            command_line: redact(command_line),
        }
    }
}

fn kernel_release() -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    Some(release.trim().to_owned()).filter(|r| !r.is_empty())
}

/// A flag whose value is a secret (`--api-key`, `--token=…`).
fn is_secret_flag(flag: &str) -> bool {
    flag.starts_with('-') && is_secret_name(flag.trim_start_matches('-'))
}

/// `command_line` with the program reduced to its file name, values of secret-named flags
/// (`--api-key X`, `--token=X`), key-like values and URL passwords replaced by `<redacted>`.
pub fn redact(command_line: &[String]) -> Vec<String> {
    let mut redacted = Vec::with_capacity(command_line.len());
    let mut secret_next = false;
    for (index, arg) in command_line.iter().enumerate() {
        let shown = if index == 0 {
            std::path::Path::new(arg).file_name().map_or(arg.clone(), |n| n.to_string_lossy().into_owned())
        } else if secret_next || looks_secret(arg) {
            REDACTED.to_owned()
        } else if let Some((flag, _)) = arg.split_once('=').filter(|(flag, _)| is_secret_flag(flag)) {
            format!("{flag}={REDACTED}")
        } else {
            redact_url_password(arg)
        };
        secret_next = index > 0 && is_secret_flag(arg) && !arg.contains('=');
        redacted.push(shown);
    }
    redacted
}

/// `scheme://user:password@host…` with the password redacted; anything else as it is.
fn redact_url_password(arg: &str) -> String {
    let Some((scheme, rest)) = arg.split_once("://") else { return arg.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return arg.to_owned() };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{REDACTED}{}", &rest[at..]),
        None => arg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let line = args(&[
            "/home/someone/bin/chaos",
            "run",
            "scenarios/brownout.yaml",
            "--api-key",
            "hunter2",
            "--token=abc",
            "sk-live-123",
            "http://user:pw@127.0.0.1:4000/v1",
            "--reports",
            "out",
        ]);
        assert_eq!(
            redact(&line),
            args(&[
                "chaos",
                "run",
                "scenarios/brownout.yaml",
                "--api-key",
                REDACTED,
                "--token=<redacted>",
                REDACTED,
                "http://user:<redacted>@127.0.0.1:4000/v1",
                "--reports",
                "out",
            ])
        );
    }

    #[test]
    fn the_environment_names_this_machine_and_build() {
        let environment = Environment::capture(&args(&["chaos", "run", "a.yaml"]));
        assert_eq!(environment.os, std::env::consts::OS);
        assert!(environment.cpus.is_some_and(|n| n >= 1));
        assert_eq!(environment.build_profile, "debug", "tests run a debug build");
        let rustc = environment.rustc.expect("rustc --version recorded at build time");
        assert!(rustc.starts_with("rustc 1."), "{rustc}");
        if cfg!(target_os = "linux") {
            assert!(environment.kernel.is_some());
        }
        assert_eq!(environment.command_line, args(&["chaos", "run", "a.yaml"]));
    }
}
