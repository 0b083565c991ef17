//! The token inspector page: paste a JWT, read each check's verdict.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::{AdminFrame, AdminRequest};
use crate::flows::inspect::{Check, inspect_token};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::TokenField;

struct Report {
    passed: bool,
    checks: Vec<Check>,
    header: Option<String>,
    claims: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/inspect.html")]
struct InspectTemplate<'a> {
    admin: AdminFrame,
    token: &'a str,
    report: Option<Report>,
}

pub async fn inspect_get(admin: AdminRequest) -> Result<HttpResponse, HttpError> {
    admin.render(StatusCode::OK, InspectTemplate { admin: admin.frame(), token: "", report: None })
}

pub async fn inspect_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let TokenField { token } = admin.form()?;
    let inspection = inspect_token(&state.context(), &token).await.map_err(HttpError::page)?;
    let pretty = |value: &Option<serde_json::Value>| {
        value.as_ref().map(|v| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()))
    };
    let report = Report {
        passed: inspection.all_passed(),
        header: pretty(&inspection.header),
        claims: pretty(&inspection.claims),
        checks: inspection.checks,
    };
    admin.render(StatusCode::OK, InspectTemplate { admin: admin.frame(), token: &token, report: Some(report) })
}
