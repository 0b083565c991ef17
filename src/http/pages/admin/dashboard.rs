use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminFrame, AdminRequest, EventRow, forbidden};
use crate::clock::format_rfc3339;
use crate::flows::admin::access::{AdminAccess, admin_access, overview};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::query;
use crate::http::pages::{PageBrowser, render_outcome};

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
    families: u64,
    logins: u64,
    failures: u64,
    keys: Vec<KeyRow>,
    events: Vec<EventRow>,
}

/// The dashboard, and the door: signing in, stepping up or enrolling happen here.
pub async fn admin_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let ctx = state.context();
    match admin_access(&ctx, &browser.browser).await.map_err(HttpError::page)? {
        AdminAccess::SignIn => Err(HttpError::SignIn { location: "/login?destination=admin" }),
        AdminAccess::Forbidden => Err(forbidden()),
        AdminAccess::Interaction(page) => render_outcome(page, &browser, false, None),
        AdminAccess::Granted(session) => {
            let query = query(&request)?;
            let admin = AdminRequest { browser, session: *session, form: Vec::new(), query };
            let summary = overview(&ctx).await.map_err(HttpError::page)?;
            let page = DashboardTemplate {
                admin: admin.frame(),
                users: summary.users,
                clients: summary.clients,
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
    }
}
