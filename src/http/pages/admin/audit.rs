//! The audit log: filter by event, user, client and time; newest first, a page at a time.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::{AdminFrame, AdminRequest, EventRow, PAGE_SIZE, query_value};
use crate::clock::parse_rfc3339;
use crate::flows::admin::lists;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::AuditFilter;

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTemplate<'a> {
    admin: AdminFrame,
    event: &'a str,
    user: &'a str,
    client: &'a str,
    since: &'a str,
    until: &'a str,
    events: Vec<EventRow>,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/audit`: the filters; the times as RFC 3339 dates or date-times.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    event: String,
    user: String,
    client: String,
    since: String,
    until: String,
}

pub async fn audit_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let AuditQuery { event, user, client, since, until } = admin.query()?;
    let text = |value: String| value.trim().chars().take(128).collect::<String>();
    let (event, user, client, since, until) = (text(event), text(user), text(client), text(since), text(until));
    let user_id = lists::user_filter(&state.context(), &user).await.map_err(HttpError::page)?;
    let mut frame_error = None;
    let mut time = |label: &str, value: &str| match value {
        "" => None,
        value => parse_rfc3339(value).or_else(|| {
            frame_error = Some(format!("{label} must look like 2026-11-23 or 2026-11-23T10:00:00Z; it was ignored."));
            None
        }),
    };
    let filter = AuditFilter {
        event: Some(event.clone()).filter(|e| !e.is_empty()),
        user_id,
        client_id: Some(client.clone()).filter(|c| !c.is_empty()),
        since: time("Since", &since),
        until: time("Until", &until),
    };
    let (page, offset) = admin.offset();
    let records =
        lists::search_audit(&state.context(), &filter, offset, PAGE_SIZE + 1).await.map_err(HttpError::page)?;
    let more = records.len() as u64 > PAGE_SIZE;
    let link = |page: u64| {
        format!(
            "/admin/audit?event={}&user={}&client={}&since={}&until={}&page={page}",
            query_value(&event),
            query_value(&user),
            query_value(&client),
            query_value(&since),
            query_value(&until)
        )
    };
    let mut frame = admin.frame();
    frame.error = frame_error;
    let page = AuditTemplate {
        admin: frame,
        event: &event,
        user: &user,
        client: &client,
        since: &since,
        until: &until,
        events: records.into_iter().take(PAGE_SIZE as usize).map(EventRow::from).collect(),
        prev: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
    };
    admin.render(StatusCode::OK, page)
}
