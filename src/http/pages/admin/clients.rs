//! Clients: create (the secret shown once), edit every setting, rotate the secret, delete.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::{AdminFrame, AdminRequest, ConfirmTemplate, see_other};
use crate::clock::format_rfc3339;
use crate::flows::admin::{self, ClientInput, lists};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::model::{AssuranceLevel, Client, GrantType, RefreshOverrides};

/// The editable settings as the form shows them.
#[derive(Default)]
struct ClientForm {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    authorization_code: bool,
    refresh_token: bool,
    client_credentials: bool,
    first_party: bool,
    require_mfa: bool,
    require_phishing_resistant: bool,
    access_token_seconds: String,
    refresh_idle_seconds: String,
    refresh_absolute_seconds: String,
    reuse_grace_seconds: String,
    backchannel_logout_uri: String,
    resources: String,
    default_resource: String,
}

impl From<&Client> for ClientForm {
    fn from(client: &Client) -> Self {
        let lines = |uris: &[crate::model::RedirectUri]| uris.iter().map(|u| u.as_str()).collect::<Vec<_>>().join("\n");
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        Self {
            name: client.name.clone(),
            redirect_uris: lines(&client.redirect_uris),
            post_logout_redirect_uris: lines(&client.post_logout_redirect_uris),
            authorization_code: client.allows(GrantType::AuthorizationCode),
            refresh_token: client.allows(GrantType::RefreshToken),
            client_credentials: client.allows(GrantType::ClientCredentials),
            first_party: client.first_party,
            require_mfa: client.require_mfa,
            require_phishing_resistant: client.require_phishing_resistant,
            access_token_seconds: number(client.access_token_seconds),
            refresh_idle_seconds: number(client.refresh.idle_seconds),
            refresh_absolute_seconds: number(client.refresh.absolute_seconds),
            reuse_grace_seconds: number(client.refresh.reuse_grace_seconds),
            backchannel_logout_uri: client.backchannel_logout_uri.as_ref().map(|u| u.to_string()).unwrap_or_default(),
            resources: client.resources.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("\n"),
            default_resource: client.default_resource.as_ref().map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

struct ClientRow {
    id: String,
    name: String,
    kind: &'static str,
    grants: String,
    first_party: bool,
    /// The login it requires beyond a password, in words (empty: none).
    login: &'static str,
}

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ClientsTemplate {
    admin: AdminFrame,
    clients: Vec<ClientRow>,
    form: ClientForm,
}

#[derive(Template)]
#[template(path = "admin/client.html")]
struct ClientTemplate {
    admin: AdminFrame,
    client_id: String,
    kind: &'static str,
    public: bool,
    created: String,
    form: ClientForm,
}

fn kind(client: &Client) -> &'static str {
    if client.is_public() { "public" } else { "confidential" }
}

/// The client form as posted (`client_id` only when creating one); checkboxes send `yes`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PostedClient {
    client_id: String,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    authorization_code: String,
    refresh_token: String,
    client_credentials: String,
    public: String,
    first_party: String,
    require_mfa: String,
    require_phishing_resistant: String,
    access_token_seconds: String,
    refresh_idle_seconds: String,
    refresh_absolute_seconds: String,
    reuse_grace_seconds: String,
    backchannel_logout_uri: String,
    resources: String,
    default_resource: String,
}

impl PostedClient {
    /// The settings for `client_id`; `Err` names the field that is not a number.
    fn input(self, client_id: String) -> Result<ClientInput, String> {
        let lines = |text: &str| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
        let number = |text: &str, label: &str| -> Result<Option<i64>, String> {
            match text.trim() {
                "" => Ok(None),
                text => text.parse().map(Some).map_err(|_| format!("{label} must be a whole number of seconds")),
            }
        };
        let checked = |value: &str| value == "yes";
        let grants = [
            (GrantType::AuthorizationCode, &self.authorization_code),
            (GrantType::RefreshToken, &self.refresh_token),
            (GrantType::ClientCredentials, &self.client_credentials),
        ];
        Ok(ClientInput {
            client_id,
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            redirect_uris: lines(&self.redirect_uris),
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
            grant_types: grants
                .iter()
                .filter(|(_, on)| checked(on))
                .map(|(grant, _)| grant.as_str().to_owned())
                .collect(),
            public: checked(&self.public),
            first_party: checked(&self.first_party),
            require_mfa: checked(&self.require_mfa),
            require_phishing_resistant: checked(&self.require_phishing_resistant),
            access_token_seconds: number(&self.access_token_seconds, "The access token lifetime")?,
            refresh: RefreshOverrides {
                idle_seconds: number(&self.refresh_idle_seconds, "The refresh idle lifetime")?,
                absolute_seconds: number(&self.refresh_absolute_seconds, "The refresh absolute lifetime")?,
                reuse_grace_seconds: number(&self.reuse_grace_seconds, "The reuse grace window")?,
            },
            backchannel_logout_uri: Some(self.backchannel_logout_uri.trim().to_owned()).filter(|u| !u.is_empty()),
            resources: lines(&self.resources),
            default_resource: Some(self.default_resource.trim().to_owned()).filter(|d| !d.is_empty()),
        })
    }
}

pub async fn clients_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let clients = admin::list_clients(&state.context()).await.map_err(HttpError::page)?;
    let rows = clients
        .iter()
        .map(|c| ClientRow {
            id: c.id.to_string(),
            name: c.name.clone(),
            kind: kind(c),
            grants: c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
            first_party: c.first_party,
            login: match c.required_level() {
                AssuranceLevel::PhishingResistant => "passkey",
                AssuranceLevel::TwoFactor => "two factors",
                AssuranceLevel::OneFactor => "",
            },
        })
        .collect();
    let form = ClientForm { authorization_code: true, refresh_token: true, ..ClientForm::default() };
    admin.render(StatusCode::OK, ClientsTemplate { admin: admin.frame(), clients: rows, form })
}

pub async fn clients_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let posted: PostedClient = admin.form()?;
    let client_id = posted.client_id.trim().to_owned();
    let input = match posted.input(client_id) {
        Ok(input) => input,
        Err(message) => return admin.mistake(&message, "/admin/clients"),
    };
    match admin::add_client(&state.context(), input, admin.actor()).await {
        Ok(created) => {
            let back = format!("/admin/clients/{}", created.client.id);
            match created.secret {
                Some(secret) => {
                    let message = format!(
                        "{} was created. Put this client_secret in the application's configuration.",
                        created.client.id
                    );
                    admin.show_secret("Client secret", &message, secret.expose(), &back)
                }
                None => Ok(see_other(&format!("{back}?notice=client_saved"))),
            }
        }
        Err(err) => admin.refused(err, "/admin/clients"),
    }
}

async fn find_client(state: &AppState, id: &str) -> Result<Client, HttpError> {
    let client = lists::find_client(&state.context(), id).await.map_err(HttpError::page)?;
    client.ok_or_else(|| HttpError::Page {
        status: StatusCode::NOT_FOUND,
        title: "No such client",
        message: "Go back to the list of clients.".into(),
    })
}

pub async fn client_get(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let client = find_client(&state, &id).await?;
    let page = ClientTemplate {
        admin: admin.frame(),
        client_id: client.id.to_string(),
        kind: kind(&client),
        public: client.is_public(),
        created: format_rfc3339(client.created_at),
        form: ClientForm::from(&client),
    };
    admin.render(StatusCode::OK, page)
}

pub async fn client_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let client = find_client(&state, &id).await?;
    let back = format!("/admin/clients/{}", client.id);
    let input = match admin.form::<PostedClient>()?.input(client.id.to_string()) {
        Ok(input) => input,
        Err(message) => return admin.mistake(&message, &back),
    };
    match admin::update_client(&state.context(), input, admin.actor()).await {
        Ok(_) => Ok(see_other(&format!("{back}?notice=client_saved"))),
        Err(err) => admin.refused(err, &back),
    }
}

pub async fn client_rotate_secret_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let client = find_client(&state, &id).await?;
    let back = format!("/admin/clients/{}", client.id);
    match admin::rotate_client_secret(&state.context(), client.id.as_str(), admin.actor()).await {
        Ok(secret) => {
            let message = format!(
                "The old secret of {} stopped working. Put this one in the application's configuration.",
                client.id
            );
            admin.show_secret("New client secret", &message, secret.expose(), &back)
        }
        Err(err) => admin.refused(err, &back),
    }
}

pub async fn client_delete_confirm_get(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let client = find_client(&state, &id).await?;
    let action = format!("/admin/clients/{}/delete", client.id);
    let back = format!("/admin/clients/{}", client.id);
    let page = ConfirmTemplate {
        admin: admin.frame(),
        title: "Delete this client?",
        paragraphs: vec![format!(
            "{} ({}) is deleted with its authorization codes, consents and refresh tokens. Its users stay signed in \
             to wristband, but the application can no longer sign anyone in or refresh tokens.",
            client.id, client.name
        )],
        action: &action,
        button: "Delete the client",
        back: &back,
    };
    admin.render(StatusCode::OK, page)
}

pub async fn client_delete_post(
    admin: AdminRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let client = find_client(&state, &id).await?;
    if !admin.confirmed()? {
        return Ok(see_other(&format!("/admin/clients/{}/delete", client.id)));
    }
    match admin::remove_client(&state.context(), client.id.as_str(), admin.actor()).await {
        Ok(()) => Ok(see_other("/admin/clients?notice=client_deleted")),
        Err(err) => admin.refused(err, "/admin/clients"),
    }
}
