//! The OpenAPI document's frame: info and tags. The operations come from
//! the handlers themselves (see `routes::api_router`); `spec_docs::openapi`
//! completes the document with schemas, security schemes and examples.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Byrd",
        description = "Byrd helpdesk live-chat server, protocol v1. Agents log in for agent tokens; a visitor starting a chat gets a guest token that opens that chat only. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code (`x-byrd-error-codes` lists them per response); see spec/v1/README.md. The live chat runs over the WebSocket `GET /v1/ws`, described in asyncapi.yaml and ws.schema.json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "auth", description = "Agent login sessions and token introspection."),
        (name = "chats", description = "Starting and handling chats."),
        (name = "agents", description = "The support team."),
        (name = "realtime", description = "The WebSocket endpoint; its frames are described in asyncapi.yaml."),
        (name = "meta", description = "Operations."),
    ),
)]
pub struct ApiDoc;
