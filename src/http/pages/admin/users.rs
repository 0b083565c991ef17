//! Users: search and page through them, create, edit, disable, reset credentials, and
//! end their sessions.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::families::{FamilyRow, family_rows};
use super::{AdminFrame, AdminRequest, PAGE_SIZE, query_value, see_other};
use crate::clock::format_rfc3339;
use crate::flows::admin::lists::{self, UserDetails};
use crate::flows::admin::{self, ProfileInput, UserInput};
use crate::flows::upstream;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::model::{AssuranceLevel, User};

/// `GET /admin/users?q=`: text in a username, name or email.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

/// `POST /admin/users`: a new user (the password is generated and shown once), or with
/// `invite=yes` an invitation mailed to the address.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUserFields {
    username: String,
    email: String,
    name: String,
    roles: String,
    admin: String,
    invite: String,
}

/// `POST /admin/users/{id}`: the profile as edited.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ProfileFields {
    email: String,
    name: String,
    roles: String,
}

struct UserRow {
    id: String,
    username: String,
    name: String,
    email: String,
    roles: String,
    admin: bool,
    totp: bool,
    disabled: bool,
}

impl From<User> for UserRow {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            name: user.name.map(|n| n.to_string()).unwrap_or_default(),
            email: user.email.map(|e| e.to_string()).unwrap_or_default(),
            roles: user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
            admin: user.is_admin,
            totp: user.totp_secret.is_some(),
            disabled: user.disabled,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersTemplate<'a> {
    admin: AdminFrame,
    query: &'a str,
    total: u64,
    users: Vec<UserRow>,
    prev: Option<String>,
    next: Option<String>,
}

struct SessionRow {
    sid: String,
    created: String,
    ip: String,
    user_agent: String,
    acr: &'static str,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserTemplate {
    admin: AdminFrame,
    id: String,
    username: String,
    name: String,
    email: String,
    roles: String,
    admin_role: bool,
    disabled: bool,
    totp: bool,
    created: String,
    actions: Vec<(&'static str, &'static str)>,
    sessions: Vec<SessionRow>,
    families: Vec<FamilyRow>,
    passkeys: Vec<PasskeyRow>,
    identities: Vec<IdentityRow>,
    back: String,
}

struct IdentityRow {
    upstream: String,
    subject: String,
    seen_as: String,
    linked: String,
    last_used: String,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    kind: &'static str,
}

pub async fn users_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let SearchQuery { q } = admin.query()?;
    let query: String = q.chars().take(200).collect();
    let (page, offset) = admin.offset();
    let (users, total) =
        lists::search_users(&state.context(), query.trim(), offset, PAGE_SIZE).await.map_err(HttpError::page)?;
    let link = |page: u64| format!("/admin/users?q={}&page={page}", query_value(&query));
    let page = UsersTemplate {
        admin: admin.frame(),
        query: &query,
        total,
        users: users.into_iter().map(UserRow::from).collect(),
        prev: (page > 1).then(|| link(page - 1)),
        next: (offset + PAGE_SIZE < total).then(|| link(page + 1)),
    };
    admin.render(StatusCode::OK, page)
}

pub async fn users_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let NewUserFields { username, email, name, roles, admin: is_admin, invite } = admin.form()?;
    let optional = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let roles: Vec<String> =
        roles.split(|c: char| c == ',' || c.is_whitespace()).filter(|r| !r.is_empty()).map(str::to_owned).collect();
    if invite == "yes" {
        let invited = admin::invite_user(
            &state.context(),
            username.trim(),
            email.trim(),
            roles,
            is_admin == "yes",
            admin.actor(),
        )
        .await;
        return match invited {
            Ok(user) => Ok(see_other(&format!("/admin/users/{}?notice=user_invited", user.id))),
            Err(err) => admin.refused(err, "/admin/users"),
        };
    }
    let input = UserInput {
        username: username.trim().to_owned(),
        email: optional(email),
        name: optional(name),
        roles,
        is_admin: is_admin == "yes",
        password: None,
        verify_before_sign_in: false,
    };
    match admin::add_user(&state.context(), input, admin.actor()).await {
        Ok((user, password)) => {
            let back = format!("/admin/users/{}?notice=user_created", user.id);
            let message =
                format!("{} was created. Give them this temporary password over a channel you trust.", user.username);
            let secret = password.map(|p| p.expose().to_owned()).unwrap_or_default();
            admin.show_secret("Temporary password", &message, &secret, &back)
        }
        Err(err) => admin.refused(err, "/admin/users"),
    }
}

async fn find_user(state: &AppState, id: &str) -> Result<User, HttpError> {
    let user = lists::find_user(&state.context(), id).await.map_err(HttpError::page)?;
    user.ok_or_else(|| HttpError::Page {
        status: StatusCode::NOT_FOUND,
        title: "No such user",
        message: "Go back to the list of users.".into(),
    })
}

pub async fn user_get(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let user = find_user(&state, &id).await?;
    let now = state.clock.now();
    let UserDetails { sessions, families, passkeys } =
        lists::user_details(&state.context(), &user, PAGE_SIZE).await.map_err(HttpError::page)?;
    let identities = upstream::linked_identities(&state.context(), user.id).await.map_err(HttpError::page)?;
    let mut actions = vec![if user.disabled { ("enable", "Enable") } else { ("disable", "Disable") }];
    actions.push(("password", "Set a temporary password"));
    if user.totp_secret.is_some() || !passkeys.is_empty() {
        actions.push(("reset-mfa", "Reset two-step verification and passkeys"));
    }
    actions.push(("revoke-sessions", "End every session"));
    let back = format!("/admin/users/{}", user.id);
    let page = UserTemplate {
        admin: admin.frame(),
        id: user.id.to_string(),
        username: user.username.to_string(),
        name: user.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        email: user.email.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        roles: user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        admin_role: user.is_admin,
        disabled: user.disabled,
        totp: user.totp_secret.is_some(),
        created: format_rfc3339(user.created_at),
        actions,
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                sid: s.sid.to_string(),
                created: format_rfc3339(s.created_at),
                ip: s.ip.unwrap_or_default(),
                user_agent: s.user_agent.unwrap_or_default(),
                acr: match AssuranceLevel::from_acr(&s.acr) {
                    Some(AssuranceLevel::PhishingResistant) => "passkey",
                    Some(AssuranceLevel::TwoFactor) => "two factors",
                    _ if s.amr.contains("\"fed\"") => "another provider",
                    _ => "password",
                },
            })
            .collect(),
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyRow {
                id: p.id.to_string(),
                kind: if p.device_bound() { "device-bound" } else { "synced" },
                name: p.name.to_string(),
                created: format_rfc3339(p.created_at),
                last_used: p.last_used_at.map_or_else(|| "never".to_owned(), format_rfc3339),
            })
            .collect(),
        families: family_rows(families, now),
        identities: identities
            .into_iter()
            .map(|l| IdentityRow {
                seen_as: [l.username, l.email].into_iter().flatten().collect::<Vec<_>>().join(", "),
                upstream: l.upstream.to_string(),
                subject: l.subject,
                linked: format_rfc3339(l.created_at),
                last_used: l.last_used_at.map_or_else(|| "never".to_owned(), format_rfc3339),
            })
            .collect(),
        back,
    };
    admin.render(StatusCode::OK, page)
}

pub async fn user_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let user = find_user(&state, &id).await?;
    let ProfileFields { email, name, roles } = admin.form()?;
    let input = ProfileInput { email, name, roles };
    let back = format!("/admin/users/{}", user.id);
    match admin::update_user_profile(&state.context(), user.id, input, admin.actor()).await {
        Ok(()) => Ok(see_other(&format!("{back}?notice=user_saved"))),
        Err(err) => admin.refused(err, &back),
    }
}

/// Disable, enable, temporary password, reset MFA, end every session.
pub async fn user_action_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let (id, action) = path.into_inner();
    let user = find_user(&state, &id).await?;
    let (ctx, actor) = (&state.context(), admin.actor());
    let username = user.username.as_str();
    let back = format!("/admin/users/{}", user.id);
    let notice = match action.as_str() {
        "disable" => admin::set_user_disabled(ctx, username, true, actor).await.map(|_| "user_disabled"),
        "enable" => admin::set_user_disabled(ctx, username, false, actor).await.map(|_| "user_enabled"),
        "reset-mfa" => admin::reset_mfa(ctx, username, actor).await.map(|_| "mfa_reset"),
        "revoke-sessions" => admin::revoke_user_sessions(ctx, username, actor).await.map(|_| "sessions_revoked"),
        "password" => {
            return match admin::set_user_password(ctx, username, None, actor).await {
                Ok(password) => {
                    let secret = password.map(|p| p.expose().to_owned()).unwrap_or_default();
                    let message = format!(
                        "{username}'s sessions and refresh tokens ended. Give them this password over a channel you trust."
                    );
                    admin.show_secret("Temporary password", &message, &secret, &back)
                }
                Err(err) => admin.refused(err, &back),
            };
        }
        _ => {
            return Err(HttpError::bad_page(
                "Unknown action",
                "Go back to the user's page and use one of its buttons.",
            ));
        }
    };
    match notice {
        Ok(notice) => Ok(see_other(&format!("{back}?notice={notice}"))),
        Err(err) => admin.refused(err, &back),
    }
}

pub async fn passkey_remove_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let (id, passkey) = path.into_inner();
    let user = find_user(&state, &id).await?;
    let back = format!("/admin/users/{}", user.id);
    let Ok(passkey) = Uuid::parse_str(&passkey) else {
        return Ok(see_other(&format!("{back}?notice=nothing_changed")));
    };
    match admin::remove_user_passkey(&state.context(), user.id, passkey, admin.actor()).await {
        Ok(true) => Ok(see_other(&format!("{back}?notice=passkey_removed"))),
        Ok(false) => Ok(see_other(&format!("{back}?notice=nothing_changed"))),
        Err(err) => admin.refused(err, &back),
    }
}

pub async fn identity_unlink_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let (id, name) = path.into_inner();
    let user = find_user(&state, &id).await?;
    let back = format!("/admin/users/{}", user.id);
    match upstream::unlink(&state.context(), user.id, &name, admin.actor()).await {
        Ok(true) => Ok(see_other(&format!("{back}?notice=identity_unlinked"))),
        Ok(false) => Ok(see_other(&format!("{back}?notice=nothing_changed"))),
        Err(err) => admin.refused(err, &back),
    }
}

pub async fn session_end_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let (id, sid) = path.into_inner();
    let user = find_user(&state, &id).await?;
    let back = format!("/admin/users/{}", user.id);
    let Ok(sid) = Uuid::parse_str(&sid) else { return Ok(see_other(&format!("{back}?notice=nothing_changed"))) };
    match admin::end_user_session(&state.context(), user.id, sid, admin.actor()).await {
        Ok(true) => Ok(see_other(&format!("{back}?notice=session_ended"))),
        Ok(false) => Ok(see_other(&format!("{back}?notice=nothing_changed"))),
        Err(err) => admin.refused(err, &back),
    }
}
