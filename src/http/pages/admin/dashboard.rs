use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminFrame, AdminRequest, EventRow};
use crate::clock::format_rfc3339;
use crate::flows::admin::access::overview;
use crate::http::AppState;
use crate::http::error::HttpError;

struct KeyRow {
    kid: String,
    state: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardTemplate {
    admin: AdminFrame,
    users: u64,
    clients: u64,
    apis: u64,
    families: u64,
    logins: u64,
    failures: u64,
    keys: Vec<KeyRow>,
    events: Vec<EventRow>,
}

/// The dashboard. Signing in, stepping up or enrolling happen at this address too, before
/// it: the scope's guard shows those pages.
pub async fn admin_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let summary = overview(&state.context()).await.map_err(HttpError::page)?;
    let page = DashboardTemplate {
        admin: admin.frame(),
        users: summary.users,
        clients: summary.clients,
        apis: summary.apis,
        families: summary.live_families,
        logins: summary.logins_24h,
        failures: summary.failed_logins_24h,
        keys: summary
            .keys
            .into_iter()
            .map(|k| KeyRow { kid: k.kid, state: k.state.to_string(), created: format_rfc3339(k.created_at) })
            .collect(),
        events: summary.latest_events.into_iter().map(EventRow::from).collect(),
    };
    admin.render(StatusCode::OK, page)
}
