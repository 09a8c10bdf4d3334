//! The model read from the committed documents, as a snapshot: a change to
//! the spec or to the reader shows here as a reviewable diff.

#[test]
fn model_of_the_committed_documents() {
    let root = byrd_sdk_gen::workspace_root();
    let model = byrd_sdk_gen::read(&root.join(byrd_sdk_gen::SPEC_DIR)).expect("the documents read");
    insta::assert_json_snapshot!("model", model);
}

#[test]
fn every_operation_and_type_the_spec_names_is_in_the_model() {
    let root = byrd_sdk_gen::workspace_root();
    let model = byrd_sdk_gen::read(&root.join(byrd_sdk_gen::SPEC_DIR)).expect("the documents read");
    let ids: Vec<&str> = model.operations.iter().map(|o| o.id.as_str()).collect();
    for id in [
        "login",
        "refreshSession",
        "startChat",
        "listChats",
        "listMessages",
        "sendMessage",
        "getMe",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        !ids.contains(&"connectWebSocket"),
        "the WebSocket is not a REST operation"
    );
    for name in [
        "Chat",
        "Message",
        "ErrorCode",
        "ClientFrame",
        "ServerFrame",
        "Claims",
        "Me",
    ] {
        assert!(model.type_def(name).is_some(), "{name} missing");
    }
    assert_eq!(model.close_codes.len(), 8);
}
