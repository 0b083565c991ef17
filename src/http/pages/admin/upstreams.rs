//! Upstream providers: the list, adding one (OpenID Connect by its issuer, or plain OAuth
//! 2.0 by its endpoints), and removing one after a confirmation.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::{AdminFrame, AdminRequest, ConfirmTemplate, query_value, see_other};
use crate::flows::upstream::manage::ClaimInput;
use crate::flows::upstream::{self, UpstreamInput, callback_uri};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::model::UpstreamProtocol;
use crate::security::secret::SecretString;

struct UpstreamRow {
    name: String,
    display_name: String,
    source: String,
    client_id: String,
    first_sign_in: &'static str,
    callback_uri: String,
    remove: String,
}

#[derive(Template)]
#[template(path = "admin/upstreams.html")]
struct UpstreamsTemplate {
    admin: AdminFrame,
    upstreams: Vec<UpstreamRow>,
}

/// `POST /admin/upstreams`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUpstreamFields {
    name: String,
    display_name: String,
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    subject_claim: String,
    username_claim: String,
    name_claim: String,
    email_claim: String,
    email_verified_claim: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    link_by_verified_email: String,
    create_users: String,
    trusted_for_mfa: String,
    offer_end_session: String,
}

/// `/admin/upstreams/remove?name=`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NameQuery {
    name: String,
}

pub async fn upstreams_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let ctx = state.context();
    let rows = upstream::list_upstreams(&ctx)
        .await
        .map_err(HttpError::page)?
        .into_iter()
        .map(|u| UpstreamRow {
            source: match &u.protocol {
                UpstreamProtocol::Oidc { issuer } => issuer.to_string(),
                UpstreamProtocol::OAuth2(provider) => {
                    format!("OAuth 2.0: {}", provider.authorization_endpoint)
                }
            },
            first_sign_in: u.first_sign_in(),
            callback_uri: callback_uri(&ctx.config.issuer, &u.name),
            remove: format!("/admin/upstreams/remove?name={}", query_value(u.name.as_str())),
            client_id: u.client_id,
            display_name: u.display_name,
            name: u.name.to_string(),
        })
        .collect();
    admin.render(StatusCode::OK, UpstreamsTemplate { admin: admin.frame(), upstreams: rows })
}

pub async fn upstreams_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let f: NewUpstreamFields = admin.form()?;
    let given = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let input = UpstreamInput {
        name: f.name,
        display_name: given(f.display_name),
        issuer: given(f.issuer),
        authorization_endpoint: given(f.authorization_endpoint),
        token_endpoint: given(f.token_endpoint),
        userinfo_endpoint: given(f.userinfo_endpoint),
        claims: ClaimInput {
            subject: given(f.subject_claim),
            username: given(f.username_claim),
            name: given(f.name_claim),
            email: given(f.email_claim),
            email_verified: given(f.email_verified_claim),
        },
        client_id: f.client_id,
        client_secret: SecretString::new(f.client_secret),
        scopes: f.scopes.split_whitespace().map(str::to_owned).collect(),
        link_by_verified_email: f.link_by_verified_email == "yes",
        create_users: f.create_users == "yes",
        trusted_for_mfa: f.trusted_for_mfa == "yes",
        offer_end_session: f.offer_end_session == "yes",
    };
    match upstream::add_upstream(&state.context(), input, admin.actor()).await {
        Ok(_) => Ok(see_other("/admin/upstreams?notice=upstream_added")),
        Err(err) => admin.refused(err, "/admin/upstreams"),
    }
}

pub async fn upstream_remove_confirm_get(admin: AdminRequest) -> Result<HttpResponse, HttpError> {
    let NameQuery { name } = admin.query()?;
    let action = format!("/admin/upstreams/remove?name={}", query_value(&name));
    let page = ConfirmTemplate {
        admin: admin.frame(),
        title: "Remove this provider?",
        paragraphs: vec![format!(
            "Nobody can sign in with {name} from now on, and every identity linked through it is unlinked. Accounts \
             it created stay; their people sign in another way (a password reset, if they have an address)."
        )],
        action: &action,
        button: "Remove the provider",
        back: "/admin/upstreams",
    };
    admin.render(StatusCode::OK, page)
}

pub async fn upstream_remove_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let NameQuery { name } = admin.query()?;
    if !admin.confirmed()? {
        return Ok(see_other(&format!("/admin/upstreams/remove?name={}", query_value(&name))));
    }
    match upstream::remove_upstream(&state.context(), &name, admin.actor()).await {
        Ok(()) => Ok(see_other("/admin/upstreams?notice=upstream_removed")),
        Err(err) => admin.refused(err, "/admin/upstreams"),
    }
}
