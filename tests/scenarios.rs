//! Every scenario shipped in `scenarios/` validates.

use crate::support::{chaos, root};

#[test]
fn every_shipped_scenario_validates() {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).expect("scenarios/ exists") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let (code, stdout, stderr) = chaos(&["validate", &path.to_string_lossy()]);
            assert_eq!(code, 0, "{path:?}: {stderr}");
            assert!(stdout.starts_with("ok: "), "{stdout}");
            count += 1;
        }
    }
    assert!(count >= 1, "no scenarios found");
}
