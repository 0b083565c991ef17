//! Signing keys: their states and dates, "Rotate now" (with a confirmation when some
//! verifiers may not hold the next key yet) and emergency revocation.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::{AdminFrame, AdminRequest, ConfirmTemplate, see_other};
use crate::clock::format_rfc3339;
use crate::flows::keys::{KeyChange, early_rotation, revoke_signing_key, rotate_signing_keys, signing_keys};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::model::KeyState;

struct KeyRow {
    kid: String,
    state: KeyState,
    algorithm: String,
    created: String,
    activated: String,
    retired: String,
    revoked: String,
    valid_until: String,
    revocable: bool,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysTemplate {
    admin: AdminFrame,
    max_age: u32,
    schedule: String,
    keys: Vec<KeyRow>,
}

pub async fn keys_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let (keys, schedule) = signing_keys(&state.context()).await.map_err(HttpError::page)?;
    let date = |at: Option<i64>| at.map(format_rfc3339).unwrap_or_default();
    let keys = keys
        .into_iter()
        .map(|k| KeyRow {
            valid_until: match k.state {
                KeyState::Next => "not signing yet".to_owned(),
                KeyState::Active => "signing".to_owned(),
                KeyState::Retired => date(k.retired_at.map(|at| at + schedule.longest_token_seconds)),
                KeyState::Revoked => "none: refused".to_owned(),
                KeyState::Removed => "all expired".to_owned(),
            },
            revocable: k.state.is_published(),
            algorithm: format!("{} {}", k.algorithm, k.key_bits),
            created: format_rfc3339(k.created_at),
            activated: date(k.activated_at),
            retired: date(k.retired_at),
            revoked: date(k.revoked_at),
            kid: k.kid,
            state: k.state,
        })
        .collect();
    let schedule = match state.config.keys.rotate_every_seconds {
        Some(every) => format!("every {} days", every as f64 / 86_400.0),
        None => "off (only on demand)".to_owned(),
    };
    let page = KeysTemplate { admin: admin.frame(), max_age: state.config.keys.jwks_max_age_seconds, schedule, keys };
    admin.render(StatusCode::OK, page)
}

pub async fn keys_rotate_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let ctx = state.context();
    if !admin.confirmed()?
        && let Some(early) = early_rotation(&ctx).await.map_err(HttpError::page)?
    {
        let page = ConfirmTemplate {
            admin: admin.frame(),
            title: "Rotate before every verifier has the next key?",
            paragraphs: vec![
                early.explain(ctx.clock.now()),
                "Verifiers known to refetch the JWKS on an unknown kid (most JWT libraries with a JWKS client) are \
                 safe. Others, which only refresh when their cache expires, may reject new tokens until then."
                    .to_owned(),
            ],
            action: "/admin/keys/rotate",
            button: "Rotate anyway",
            back: "/admin/keys",
        };
        return admin.render(StatusCode::OK, page);
    }
    match rotate_signing_keys(&ctx, admin.actor()).await {
        Ok(KeyChange::Done(_)) => Ok(see_other("/admin/keys?notice=key_rotated")),
        Ok(KeyChange::Raced) => Ok(see_other("/admin/keys?notice=rotation_raced")),
        Err(err) => admin.refused(err, "/admin/keys"),
    }
}

pub async fn key_revoke_confirm_get(admin: AdminRequest, kid: web::Path<String>) -> Result<HttpResponse, HttpError> {
    let action = format!("/admin/keys/{kid}/revoke");
    let page = ConfirmTemplate {
        admin: admin.frame(),
        title: "Revoke this key?",
        paragraphs: vec![
            format!("Key {kid} leaves the JWKS at once, and every token it signed is refused from now on."),
            "If it is the active key, the next key signs from now on and a new next key is made. Do this when a \
             private key may have leaked; for routine changes, rotate instead."
                .to_owned(),
        ],
        action: &action,
        button: "Revoke the key",
        back: "/admin/keys",
    };
    admin.render(StatusCode::OK, page)
}

pub async fn key_revoke_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    kid: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    if !admin.confirmed()? {
        return Ok(see_other(&format!("/admin/keys/{kid}/revoke")));
    }
    match revoke_signing_key(&state.context(), &kid, admin.actor()).await {
        Ok(KeyChange::Done(())) => Ok(see_other("/admin/keys?notice=key_revoked")),
        Ok(KeyChange::Raced) => Ok(see_other("/admin/keys?notice=nothing_changed")),
        Err(err) => admin.refused(err, "/admin/keys"),
    }
}
