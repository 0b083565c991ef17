//! Refresh-token families across users and clients: filter, inspect, revoke.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{AdminFrame, AdminRequest, PAGE_SIZE, query_value, see_other};
use crate::clock::{UnixTime, format_rfc3339};
use crate::flows::admin::{self, lists};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::FamilyAdminRecord;

pub struct FamilyRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub revoked: String,
    pub live: bool,
}

pub fn family_rows(records: Vec<FamilyAdminRecord>, now: UnixTime) -> Vec<FamilyRow> {
    records
        .into_iter()
        .map(|f| FamilyRow {
            live: f.revoked_at.is_none() && f.expires_at > now,
            id: f.id.to_string(),
            client_id: f.client_id,
            user_id: f.user_id.to_string(),
            scope: f.scope,
            created: format_rfc3339(f.created_at),
            last_used: format_rfc3339(f.last_used_at),
            expires: format_rfc3339(f.expires_at),
            revoked: match (f.revoked_at, f.revoked_reason) {
                (Some(at), reason) => format!("{} ({})", format_rfc3339(at), reason.unwrap_or_default()),
                (None, _) => String::new(),
            },
        })
        .collect()
}

/// `GET /admin/families?user=&client=`: by username or `sub`, and by client.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FamiliesQuery {
    user: String,
    client: String,
}

/// The admin page to return to after a revocation.
#[derive(Deserialize, Default)]
#[serde(default)]
struct BackField {
    back: String,
}

#[derive(Template)]
#[template(path = "admin/families.html")]
struct FamiliesTemplate<'a> {
    admin: AdminFrame,
    user: &'a str,
    client: &'a str,
    families: Vec<FamilyRow>,
    back: String,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn families_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let FamiliesQuery { user, client } = admin.query()?;
    let (user, client) = (user.trim().to_owned(), client.trim().to_owned());
    let user_id = lists::user_filter(&state.context(), &user).await.map_err(HttpError::page)?;
    let client_id = Some(client.as_str()).filter(|c| !c.is_empty());
    let (page, offset) = admin.offset();
    let records = lists::search_families(&state.context(), user_id, client_id, offset, PAGE_SIZE + 1)
        .await
        .map_err(HttpError::page)?;
    let more = records.len() as u64 > PAGE_SIZE;
    let records = records.into_iter().take(PAGE_SIZE as usize).collect();
    let link =
        |page: u64| format!("/admin/families?user={}&client={}&page={page}", query_value(&user), query_value(&client));
    let page = FamiliesTemplate {
        admin: admin.frame(),
        user: &user,
        client: &client,
        families: family_rows(records, state.clock.now()),
        back: "/admin/families".to_owned(),
        prev: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
    };
    admin.render(StatusCode::OK, page)
}

pub async fn family_revoke_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    // Back to an admin page only: never an open redirect.
    let BackField { back } = admin.form()?;
    let back = if back.starts_with("/admin/") && !back.contains("//") && !back.contains('?') {
        back.as_str()
    } else {
        "/admin/families"
    };
    let Ok(family_id) = Uuid::parse_str(&id) else { return Ok(see_other(&format!("{back}?notice=nothing_changed"))) };
    match admin::revoke_refresh_family(&state.context(), family_id, admin.actor()).await {
        Ok(true) => Ok(see_other(&format!("{back}?notice=family_revoked"))),
        Ok(false) => Ok(see_other(&format!("{back}?notice=nothing_changed"))),
        Err(err) => admin.refused(err, back),
    }
}
