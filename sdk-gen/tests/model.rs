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
    let ws: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            byrd_sdk_gen::workspace_root()
                .join(byrd_sdk_gen::SPEC_DIR)
                .join("ws.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let listed = ws["$defs"]["CloseCode"]["oneOf"].as_array().unwrap().len();
    assert!(listed >= 8);
    assert_eq!(model.close_codes.len(), listed);
}

/// The documents of `spec/v1/`, copied to a temporary folder with one
/// change made by `edit` to the document `name`.
fn read_edited_document(
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> anyhow::Result<byrd_sdk_gen::model::Model> {
    let root = byrd_sdk_gen::workspace_root().join(byrd_sdk_gen::SPEC_DIR);
    let dir = tempfile::tempdir()?;
    for name in [
        "openapi.json",
        "ws.schema.json",
        "claims.schema.json",
        "client.json",
    ] {
        std::fs::copy(root.join(name), dir.path().join(name))?;
    }
    let path = dir.path().join(name);
    let mut document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    edit(&mut document);
    std::fs::write(&path, serde_json::to_string(&document)?)?;
    byrd_sdk_gen::read(dir.path())
}

/// [`read_edited_document`] of ws.schema.json.
fn read_edited(
    edit: impl FnOnce(&mut serde_json::Value),
) -> anyhow::Result<byrd_sdk_gen::model::Model> {
    read_edited_document("ws.schema.json", edit)
}

#[test]
fn a_schema_the_reader_does_not_understand_is_refused_by_name() {
    let error = read_edited(|ws| {
        ws["$defs"]["Message"]["properties"]["score"] = serde_json::json!({"type": "number"});
    })
    .expect_err("numbers are not part of the protocol");
    let message = format!("{error:#}");
    assert!(
        message.contains("`Message`") && message.contains("score"),
        "{message}"
    );

    let error = read_edited(|ws| {
        ws["$defs"]["CloseCode"]["oneOf"][0]["x-byrd-client-action"] = "wait".into();
    })
    .expect_err("an unknown close action");
    assert!(format!("{error:#}").contains("wait"), "{error:#}");
}

#[test]
fn a_new_frame_type_in_the_spec_becomes_a_new_variant() {
    let model = read_edited(|ws| {
        let branches = ws["$defs"]["ServerFrame"]["oneOf"].as_array_mut().unwrap();
        branches.push(serde_json::json!({
            "type": "object", "title": "ServerReaction",
            "properties": {"type": {"type": "string", "const": "reaction"}, "emoji": {"type": "string"}},
            "required": ["type", "emoji"]
        }));
    })
    .expect("an additive change reads");
    let Some(byrd_sdk_gen::model::TypeDef {
        shape: byrd_sdk_gen::model::Shape::Union { variants, open, .. },
        ..
    }) = model.type_def("ServerFrame")
    else {
        panic!("ServerFrame is a union");
    };
    assert!(*open);
    assert!(
        variants
            .iter()
            .any(|v| v.tag_value == "reaction" && v.type_name == "ServerReaction")
    );
    assert!(model.type_def("ServerReaction").is_some());
}

// The extensions are read, not guessed: a name they give that the
// operation lacks is an error in the document, not a silent omission.
#[test]
fn paging_and_idempotency_extensions_must_name_what_exists() {
    let model = read_edited_document("openapi.json", |_| {}).expect("the committed documents read");
    let send = model
        .operations
        .iter()
        .find(|o| o.id == "sendMessage")
        .unwrap();
    assert!(
        send.idempotent,
        "the idempotency key makes sendMessage safe to repeat"
    );
    let start = model
        .operations
        .iter()
        .find(|o| o.id == "startChat")
        .unwrap();
    assert!(!start.idempotent);

    let error = read_edited_document("openapi.json", |d| {
        d["paths"]["/v1/chats"]["get"]["x-byrd-pagination"]["items"] = "nope".into();
    })
    .expect_err("a paged operation naming no array");
    assert!(format!("{error:#}").contains("`nope`"), "{error:#}");

    let error = read_edited_document("openapi.json", |d| {
        d["paths"]["/v1/chats/{chat_id}/messages"]["post"]["x-byrd-idempotency-key"]["name"] =
            "body_hash".into();
    })
    .expect_err("an idempotency key that is no field");
    assert!(format!("{error:#}").contains("`body_hash`"), "{error:#}");

    let unmarked = read_edited_document("openapi.json", |d| {
        let post = d["paths"]["/v1/chats/{chat_id}/messages"]["post"]
            .as_object_mut()
            .unwrap();
        post.remove("x-byrd-idempotency-key");
    })
    .expect("the documents read");
    let send = unmarked
        .operations
        .iter()
        .find(|o| o.id == "sendMessage")
        .unwrap();
    assert!(!send.idempotent, "without the key a POST is not repeated");
}

// spec/v1/client.json: the client behaviour table names operations of
// openapi.json; a name that is no operation is an error, not a rule that
// silently never applies.
#[test]
fn the_client_table_marks_replayable_operations_and_names_only_real_ones() {
    let model = read_edited_document("client.json", |_| {}).expect("the committed documents read");
    let refresh = model
        .operations
        .iter()
        .find(|o| o.id == "refreshSession")
        .unwrap();
    assert!(!refresh.idempotent);
    assert!(refresh.replay_window_ms.is_some_and(|ms| ms > 0));
    assert!(
        model
            .operations
            .iter()
            .filter(|o| o.id != "refreshSession")
            .all(|o| o.replay_window_ms.is_none())
    );

    let error = read_edited_document("client.json", |d| {
        d["rest"]["replayable"][0]["operation"] = "refreshEverything".into();
    })
    .expect_err("a replayable operation that does not exist");
    assert!(
        format!("{error:#}").contains("refreshEverything"),
        "{error:#}"
    );
}
