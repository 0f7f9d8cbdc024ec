//! Records the compiler's version at build time (`CHAOS_RUSTC_VERSION`), so `results.json`
//! can say what built the harness that wrote it.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=CHAOS_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-changed=build.rs");
}
