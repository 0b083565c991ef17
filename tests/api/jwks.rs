use std::collections::HashSet;

use wristband::model::KeyState;

use crate::support::spawn_app;

const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

#[tokio::test]
async fn jwks_publishes_the_active_and_next_rsa_keys_without_private_members() {
    let (_env, app) = spawn_app().await;

    let response = app.get("/jwks.json").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jwk-set+json");
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let stored = app.store.list_signing_keys().await.unwrap();
    let expected: HashSet<&str> = stored
        .iter()
        .filter(|k| matches!(k.state, KeyState::Active | KeyState::Next))
        .map(|k| k.kid.as_str())
        .collect();
    let published: HashSet<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(published, expected);
    assert_eq!(keys.len(), 2, "kids are unique");
    for key in keys {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["e"], "AQAB");
        assert!(key["n"].as_str().unwrap().len() >= 342, "at least 2048-bit modulus");
        for member in PRIVATE_MEMBERS {
            assert!(key.get(member).is_none(), "private member {member} published");
        }
    }
}

#[tokio::test]
async fn jwks_is_cacheable_and_revalidates_with_its_etag() {
    let (_env, app) = spawn_app().await;
    let first = app.get("/jwks.json").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "public, max-age=300, must-revalidate");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "strong etag: {etag}");

    for candidate in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}")] {
        let revalidated = app
            .http
            .get(format!("{}/jwks.json", app.address))
            .header("If-None-Match", candidate.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), 304, "{candidate}");
        assert_eq!(revalidated.headers()["etag"], etag.as_str());
        assert!(revalidated.bytes().await.unwrap().is_empty());
    }

    let stale =
        app.http.get(format!("{}/jwks.json", app.address)).header("If-None-Match", "\"stale\"").send().await.unwrap();
    assert_eq!(stale.status(), 200);
}
