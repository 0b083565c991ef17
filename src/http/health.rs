//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::model::KeyState;

/// Longer than the PostgreSQL pool's acquire timeout, so a stopped server is reported as
/// unreachable rather than slow.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// The process is up and answering.
pub async fn healthz_get() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(json!({ "status": "ok" }))
}

/// The instance can serve: the database answers and a signing key is loaded.
pub async fn readyz_get(state: web::Data<AppState>) -> HttpResponse {
    let reason = match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Err(_) => Some("database did not answer within 3 s"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            Some("database unreachable")
        }
        Ok(Ok(())) if !state.keystore.current().states.iter().any(|(_, s)| *s == KeyState::Active) => {
            Some("no active signing key")
        }
        Ok(Ok(())) => None,
    };
    let mut response = match reason {
        None => HttpResponse::Ok(),
        Some(_) => HttpResponse::ServiceUnavailable(),
    };
    response.insert_header(("Cache-Control", "no-store"));
    match reason {
        None => response.json(json!({ "status": "ready" })),
        Some(reason) => response.json(json!({ "status": "unavailable", "reason": reason })),
    }
}
