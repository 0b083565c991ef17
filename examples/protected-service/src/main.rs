//! A service that trusts wristband's access tokens and nothing else:
//!
//! ```sh
//! wristband api add http://127.0.0.1:9100 --name Orders --scope "orders:read=Read your orders"
//! wristband client resources my-app --resource http://127.0.0.1:9100
//! WRISTBAND_ISSUER=http://127.0.0.1:8080 API=http://127.0.0.1:9100 cargo run -p protected-service
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:9100/me
//! ```
//!
//! `API` is the service's API identifier: the `aud` its tokens carry. Here it is the
//! service's own URL, so that its RFC 9728 metadata is where clients look for it.

use actix_web::{App, HttpServer, web};
use wristband_verifier::Verifier;

fn setting(name: &str, default: Option<&str>) -> std::io::Result<String> {
    match (std::env::var(name), default) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(default)) => Ok(default.to_owned()),
        (Err(_), None) => Err(std::io::Error::other(format!("set {name}"))),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let issuer = setting("WRISTBAND_ISSUER", Some("http://127.0.0.1:8080"))?;
    let api = setting("API", None)?;
    let bind = setting("BIND", Some("127.0.0.1:9100"))?;
    let verifier = Verifier::discover(&issuer, &api).await.map_err(std::io::Error::other)?;
    println!("protected-service on http://{bind}, trusting {issuer} for the API {api}");
    let verifier = web::Data::new(verifier);
    HttpServer::new(move || App::new().app_data(verifier.clone()).configure(protected_service::configure))
        .bind(bind)?
        .run()
        .await
}
