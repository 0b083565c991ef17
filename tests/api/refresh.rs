//! Refresh-token families under pressure: concurrent use of one token, and what a
//! detected reuse takes down with it.

use crate::browser::app_with_tokens;

#[tokio::test]
async fn twenty_concurrent_refreshes_of_one_token_give_exactly_one_success_and_no_5xx() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let attempts = (0..20).map(|_| {
        let (app, secret, refresh) = (&app, secret.clone(), refresh.clone());
        async move {
            let response =
                app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    });
    let results = futures_join_all(attempts).await;

    let successes: Vec<&serde_json::Value> = results.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert_eq!(successes.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(status, body)| *status == 200 || (*status == 400 && body["error"] == "invalid_grant")),
        "{results:?}"
    );
}

/// Runs the futures at once on this task (the requests interleave at the server).
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs = Vec::with_capacity(set.len());
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outputs.extend(results.into_iter().flatten());
    outputs
}

#[tokio::test]
async fn a_reused_token_kills_the_family_and_its_access_tokens_and_is_audited() {
    let (_env, app, secret, first) = app_with_tokens().await;
    let stolen = first["refresh_token"].as_str().unwrap();
    let owner: serde_json::Value = app
        .post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", stolen)])
        .await
        .json()
        .await
        .unwrap();
    let introspect = |token: String| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let response = app.post_basic("/introspect", "demo", &secret, &[("token", &token)]).await;
            response.json::<serde_json::Value>().await.unwrap()["active"] == true
        }
    };
    assert!(introspect(owner["access_token"].as_str().unwrap().to_owned()).await);

    // The thief presents the token the owner already rotated.
    let thief = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", stolen)]).await;

    assert_eq!(thief.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let newest = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", owner["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(
        newest.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant",
        "the newest token died too"
    );
    assert!(
        !introspect(owner["access_token"].as_str().unwrap().to_owned()).await,
        "the family's access token is inactive"
    );
    assert!(!introspect(first["access_token"].as_str().unwrap().to_owned()).await);
    let events = app.store.recent_audit_events(10).await.unwrap();
    let reuse = events.iter().find(|e| e.event == "refresh_token_reused").expect("audited");
    assert_eq!(reuse.client_id.as_deref(), Some("demo"));
    assert_eq!(
        reuse.user_id.map(|u| u.to_string()).as_deref(),
        crate::browser::claims(first["access_token"].as_str().unwrap())["sub"].as_str()
    );
    assert_eq!(reuse.ip.as_deref(), Some("127.0.0.1"));
    assert!(reuse.details["family"].is_string());
}

#[tokio::test]
async fn an_administrator_can_end_every_session_and_family_of_a_user() {
    let (env, app, secret, tokens) = app_with_tokens().await;

    let out = crate::process::cli_ok(&env, &["user", "revoke-sessions", "alice"], None).await;

    assert!(out.contains("ended 1 session(s), revoked 1 refresh-token family(ies)"), "{out}");
    let refresh = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let userinfo =
        app.http.get(app.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    let unknown = crate::process::cli(&env, &["user", "revoke-sessions", "nobody"], None).await;
    assert!(!unknown.success && unknown.stderr.contains("no user `nobody`"));
    assert!(app.store.recent_audit_events(5).await.unwrap().iter().any(|e| e.event == "user_sessions_revoked"));
}
