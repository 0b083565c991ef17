//! The example service (`examples/protected-service`) served beside a test's wristband.

use std::net::TcpListener;

use actix_web::{App, HttpServer, web};
use wristband_verifier::Verifier;

use crate::support::TestApp;

/// The example service on a random port, registered as an API whose identifier is its
/// URL (scope `orders:read`), which `client_id` may request, by default; its URL.
pub async fn serve_protected(app: &TestApp, client_id: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    app.seed_api(&base, &["orders:read=Read your orders"], false).await;
    app.allow_apis(client_id, &[&base], true).await;
    let verifier = web::Data::new(Verifier::discover(&app.address, &base).await.unwrap());
    let server = HttpServer::new(move || App::new().app_data(verifier.clone()).configure(protected_service::configure))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    base
}
