//! Where the conformance data lives: `../shared/conformance` beside the checkout, or
//! `$CAIRN_SHARED/conformance`. Tests that need it say so and skip when it is absent.

use std::path::PathBuf;

pub(crate) fn conformance_dir(sub: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("CAIRN_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let dir = base.join("conformance").join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP: conformance data {} is absent (set CAIRN_SHARED to the shared/ folder); this test checked nothing",
            dir.display()
        );
        None
    }
}
