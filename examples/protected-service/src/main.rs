//! A service that trusts wristband's access tokens and nothing else:
//!
//! ```sh
//! WRISTBAND_ISSUER=http://127.0.0.1:8080 AUDIENCE=orders-app cargo run -p protected-service
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:9100/me
//! ```
//!
//! `AUDIENCE` is the `aud` the tokens must carry: the client id of the application that
//! asked for them.

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
    let audience = setting("AUDIENCE", None)?;
    let bind = setting("BIND", Some("127.0.0.1:9100"))?;
    let verifier = Verifier::discover(&issuer, &audience).await.map_err(std::io::Error::other)?;
    println!("protected-service on http://{bind}, trusting {issuer} for audience {audience}");
    let verifier = web::Data::new(verifier);
    HttpServer::new(move || App::new().app_data(verifier.clone()).configure(protected_service::configure))
        .bind(bind)?
        .run()
        .await
}
