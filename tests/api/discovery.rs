use crate::support::spawn_app;

#[tokio::test]
async fn discovery_names_the_exact_issuer_and_the_jwks_uri() {
    // Arrange
    let (_env, app) = spawn_app().await;

    // Act
    let metadata = app.get_json("/.well-known/openid-configuration").await;

    // Assert
    assert_eq!(metadata["issuer"], app.address.as_str());
    assert_eq!(metadata["jwks_uri"], format!("{}/jwks.json", app.address));
}

#[tokio::test]
async fn discovery_describes_the_implemented_protocol_and_nothing_else() {
    let (_env, app) = spawn_app().await;

    let metadata = app.get_json("/.well-known/openid-configuration").await;

    let mut fields: Vec<&str> = metadata.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "acr_values_supported",
            "authorization_endpoint",
            "authorization_response_iss_parameter_supported",
            "backchannel_logout_session_supported",
            "backchannel_logout_supported",
            "claims_parameter_supported",
            "claims_supported",
            "code_challenge_methods_supported",
            "end_session_endpoint",
            "grant_types_supported",
            "id_token_signing_alg_values_supported",
            "introspection_endpoint",
            "introspection_endpoint_auth_methods_supported",
            "issuer",
            "jwks_uri",
            "prompt_values_supported",
            "request_parameter_supported",
            "request_uri_parameter_supported",
            "response_modes_supported",
            "response_types_supported",
            "revocation_endpoint",
            "revocation_endpoint_auth_methods_supported",
            "scopes_supported",
            "subject_types_supported",
            "token_endpoint",
            "token_endpoint_auth_methods_supported",
            "userinfo_endpoint",
        ]
    );
    let endpoint = |name: &str| metadata[name].as_str().unwrap().to_owned();
    for (name, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/end_session"),
    ] {
        assert_eq!(endpoint(name), app.url(path), "{name}");
    }
    assert_eq!(metadata["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(metadata["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    assert_eq!(metadata["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        metadata["scopes_supported"],
        serde_json::json!(["openid", "profile", "email", "roles", "offline_access"])
    );
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        metadata["acr_values_supported"],
        serde_json::json!([
            wristband::model::ACR_ONE_FACTOR,
            wristband::model::ACR_TWO_FACTOR,
            wristband::model::ACR_PHISHING_RESISTANT
        ])
    );
    assert_eq!(metadata["backchannel_logout_supported"], true);
}

#[tokio::test]
async fn rfc8414_metadata_is_the_same_document() {
    let (_env, app) = spawn_app().await;

    let oidc = app.get_json("/.well-known/openid-configuration").await;
    let oauth = app.get_json("/.well-known/oauth-authorization-server").await;

    assert_eq!(oidc, oauth);
}
