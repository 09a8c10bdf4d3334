//! The OpenAPI document's frame: info, tags, security schemes. The paths
//! come from the handlers themselves (see `routes::api_router`).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Byrd",
        description = "Byrd helpdesk live-chat server, protocol v1. Agents log in for agent tokens; a visitor starting a chat gets a guest token that opens that chat only. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code; see spec/v1/README.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "auth", description = "Agent login sessions and token introspection."),
        (name = "chats", description = "Starting and handling chats."),
        (name = "agents", description = "The support team."),
        (name = "realtime", description = "The WebSocket endpoint; its frames are described in asyncapi.yaml."),
        (name = "meta", description = "Operations."),
    ),
    components(schemas(byrd_spec::error::ErrorBody, byrd_spec::error::ErrorCode)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.bearer_format = Some("JWT".into());
            http.description = Some(description.into());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(
            "agent_token",
            bearer(
                "An agent JWT (`type: \"agent\"`) from `POST /v1/auth/login` or a trusted backend.",
            ),
        );
        components.add_security_scheme(
            "guest_token",
            bearer(
                "A guest JWT (`type: \"guest\"`) from `POST /v1/chats`; opens its own chat only.",
            ),
        );
    }
}
