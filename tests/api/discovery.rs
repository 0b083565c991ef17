use crate::helpers::spawn_app;

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
async fn discovery_lists_only_what_is_served() {
    let (_env, app) = spawn_app().await;

    let metadata = app.get_json("/.well-known/openid-configuration").await;

    let mut fields: Vec<&str> = metadata.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["issuer", "jwks_uri"]);
    for field in fields {
        if let Some(url) = metadata[field].as_str().filter(|v| v.starts_with("http") && field != "issuer") {
            let path = url.strip_prefix(&app.address).expect("endpoints live under the issuer");
            assert_eq!(app.get(path).await.status(), 200, "{field} is served");
        }
    }
}

#[tokio::test]
async fn rfc8414_metadata_is_the_same_document() {
    let (_env, app) = spawn_app().await;

    let oidc = app.get_json("/.well-known/openid-configuration").await;
    let oauth = app.get_json("/.well-known/oauth-authorization-server").await;

    assert_eq!(oidc, oauth);
}
