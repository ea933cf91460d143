//! `GET /{tenant}/v2.0/.well-known/openid-configuration`: the authority's OpenID metadata, which
//! MSAL (and so azure-identity and the other SDK credentials) fetches before it asks for a token.
//! The endpoints point at this emulator (its origin: http or https as it serves); the tenant
//! segment may be the tenant id, a domain, `organizations` or `common`, as for the sign-ins.
use super::*;

pub(super) async fn h_openid_configuration(
    State(sh): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = check_tenant(&sh, &tenant, true) {
        return e.into_response(sh.clock.now());
    }
    let origin = origin(&sh, &headers);
    let tid = tenant_id(&sh);
    // The endpoints carry the tenant segment as asked; the issuer names the tenant itself.
    let at = |path: &str| format!("{origin}/{tenant}/{path}");
    let body = json!({
        "token_endpoint": at("oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": at("discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{origin}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{origin}/oidc/userinfo"),
        "authorization_endpoint": at("oauth2/v2.0/authorize"),
        "device_authorization_endpoint": at("oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": at("oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "email"],
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": origin.split_once("://").map_or(origin.as_str(), |(_, h)| h),
        "rbac_url": "https://pas.windows.net",
    });
    json_response(StatusCode::OK, &body)
}
