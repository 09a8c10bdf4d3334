//! The committed SDK files are exactly what the generator writes.

#[test]
fn committed_sdk_files_match_the_generator() {
    let root = byrd_sdk_gen::workspace_root();
    let drift = byrd_sdk_gen::check(&root).expect("the generator runs");
    assert!(drift.is_empty(), "{}", byrd_sdk_gen::drift_report(&drift));
}
