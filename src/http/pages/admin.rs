//! `/admin`: administrators only, and only with two factors.

use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::{PageBrowser, render_outcome};
use crate::flows::admin::access::{AdminAccess, admin_access, overview};
use crate::http::AppState;
use crate::http::error::HttpError;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminTemplate<'a> {
    username: &'a str,
    users: usize,
    clients: usize,
    active_kid: &'a str,
}

pub async fn admin_get(request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let browser = PageBrowser::load(&state, &request).await?;
    let ctx = state.context();
    match admin_access(&ctx, &browser.browser).await.map_err(HttpError::page)? {
        AdminAccess::SignIn => Err(HttpError::SignIn { location: "/login?destination=admin" }),
        AdminAccess::Forbidden => Err(HttpError::Page {
            status: StatusCode::FORBIDDEN,
            title: "Administrators only",
            message: "Your account is not an administrator of this sign-in service. Go to /account for your own account.",
        }),
        AdminAccess::SecondFactor(page) => render_outcome(page, &browser, false, None),
        AdminAccess::Granted(session) => {
            let summary = overview(&ctx).await.map_err(HttpError::page)?;
            let page = AdminTemplate {
                username: session.user.username.as_str(),
                users: summary.users,
                clients: summary.clients,
                active_kid: summary.active_kid.as_deref().unwrap_or("none"),
            };
            Ok(browser.html(StatusCode::OK).body(page.render()?))
        }
    }
}
