use crate::support::spawn_app;

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let (_env, app) = spawn_app().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_ready_when_the_database_answers() {
    let (_env, app) = spawn_app().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}
