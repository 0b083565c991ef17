//! APIs (resource servers): the list with their scopes and clients, registering one (its
//! introspection secret shown once), and removing one after a confirmation.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::{AdminFrame, AdminRequest, ConfirmTemplate, query_value, see_other};
use crate::flows::admin::{self, ApiInput};
use crate::http::AppState;
use crate::http::error::HttpError;

struct ApiRow {
    identifier: String,
    name: String,
    scopes: String,
    lifetime: String,
    clients: String,
    introspection: String,
    remove: String,
}

#[derive(Template)]
#[template(path = "admin/apis.html")]
struct ApisTemplate {
    admin: AdminFrame,
    apis: Vec<ApiRow>,
}

/// `POST /admin/apis`: scopes one per line as `name = description`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewApiFields {
    identifier: String,
    name: String,
    scopes: String,
    access_token_seconds: String,
    introspection: String,
}

/// `/admin/apis/remove?identifier=`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct IdentifierQuery {
    identifier: String,
}

pub async fn apis_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let ctx = state.context();
    let clients = admin::list_clients(&ctx).await.map_err(HttpError::page)?;
    let apis = admin::list_apis(&ctx).await.map_err(HttpError::page)?;
    let rows = apis
        .into_iter()
        .map(|api| {
            let ids = |keep: &dyn Fn(&crate::model::Client) -> bool| {
                clients.iter().filter(|c| keep(c)).map(|c| c.id.to_string()).collect::<Vec<_>>().join(", ")
            };
            ApiRow {
                scopes: api.scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" "),
                lifetime: api.access_token_seconds.map(|s| format!("{s} s")).unwrap_or_default(),
                clients: ids(&|c| c.resources.contains(&api.identifier)),
                introspection: ids(&|c| c.resource_server_for.as_ref() == Some(&api.identifier)),
                remove: format!("/admin/apis/remove?identifier={}", query_value(api.identifier.as_str())),
                identifier: api.identifier.to_string(),
                name: api.name,
            }
        })
        .collect();
    admin.render(StatusCode::OK, ApisTemplate { admin: admin.frame(), apis: rows })
}

pub async fn apis_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let fields: NewApiFields = admin.form()?;
    let access_token_seconds = match fields.access_token_seconds.trim() {
        "" => None,
        text => match text.parse() {
            Ok(seconds) => Some(seconds),
            Err(_) => {
                return admin.mistake("The access token lifetime must be a whole number of seconds.", "/admin/apis");
            }
        },
    };
    let scopes = fields
        .scopes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some((name, description)) => (name.trim().to_owned(), description.trim().to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect();
    let name = Some(fields.name.trim().to_owned()).filter(|n| !n.is_empty());
    let input = ApiInput { identifier: fields.identifier, name, scopes, access_token_seconds };
    match admin::add_api(&state.context(), input, fields.introspection == "yes", admin.actor()).await {
        Ok(created) => match created.introspection {
            Some((client_id, secret)) => {
                let message = format!(
                    "{} was registered. Its service introspects tokens as the client {client_id} with this secret.",
                    created.api.identifier
                );
                admin.show_secret("Introspection secret", &message, secret.expose(), "/admin/apis?notice=api_created")
            }
            None => Ok(see_other("/admin/apis?notice=api_created")),
        },
        Err(err) => admin.refused(err, "/admin/apis"),
    }
}

pub async fn api_remove_confirm_get(admin: AdminRequest) -> Result<HttpResponse, HttpError> {
    let IdentifierQuery { identifier } = admin.query()?;
    let action = format!("/admin/apis/remove?identifier={}", query_value(&identifier));
    let page = ConfirmTemplate {
        admin: admin.frame(),
        title: "Remove this API?",
        paragraphs: vec![format!(
            "No client may request {identifier} from now on, its introspection credentials stop working, and \
             refresh tokens granted for it can no longer get tokens for it. Tokens already issued stay valid until \
             they expire."
        )],
        action: &action,
        button: "Remove the API",
        back: "/admin/apis",
    };
    admin.render(StatusCode::OK, page)
}

pub async fn api_remove_post(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let IdentifierQuery { identifier } = admin.query()?;
    if !admin.confirmed()? {
        return Ok(see_other(&format!("/admin/apis/remove?identifier={}", query_value(&identifier))));
    }
    match admin::remove_api(&state.context(), &identifier, admin.actor()).await {
        Ok(()) => Ok(see_other("/admin/apis?notice=api_removed")),
        Err(err) => admin.refused(err, "/admin/apis"),
    }
}
