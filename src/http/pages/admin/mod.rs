//! `/admin`: administrators only, and only with two factors. One guard on the whole scope
//! ([`admin_guard`]) checks that, and the CSRF token of every form, before any handler
//! runs; handlers take the administrator as an [`AdminRequest`]. Every change is made by
//! `flows::admin` with the administrator as the actor.

mod apis;
mod audit;
mod clients;
mod dashboard;
mod families;
mod inspect;
mod keys;
mod mail;
mod upstreams;
mod users;

pub use apis::{api_remove_confirm_get, api_remove_post, apis_get, apis_post};
pub use audit::audit_get;
pub use clients::{
    client_delete_confirm_get, client_delete_post, client_get, client_post, client_rotate_secret_post, clients_get,
    clients_post,
};
pub use dashboard::admin_get;
pub use families::{families_get, family_revoke_post};
pub use inspect::{inspect_get, inspect_post};
pub use keys::{key_revoke_confirm_get, key_revoke_post, keys_get, keys_rotate_post};
pub use mail::mail_get;
pub use upstreams::{upstream_remove_confirm_get, upstream_remove_post, upstreams_get, upstreams_post};
pub use users::{
    identity_unlink_post, passkey_remove_post, session_end_post, user_action_post, user_get, user_post, users_get,
    users_post,
};

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use super::see_other;
use super::{PageBrowser, render_outcome};
use crate::clock::format_rfc3339;
use crate::flows::Actor;
use crate::flows::admin::access::{AdminAccess, admin_access, admin_step};
use crate::flows::error::FlowError;
use crate::flows::session::SessionUser;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::extract::{query, read_form};
use crate::store::AuditRecord;

/// Rows per page of the long lists.
const PAGE_SIZE: u64 = 50;

/// Messages an action leaves for the page it returns to, by a fixed key (`?notice=`).
const NOTICES: [(&str, &str); 21] = [
    ("upstream_added", "The provider was added: its button is on the login page."),
    ("upstream_removed", "The provider was removed with every identity linked through it."),
    ("identity_unlinked", "The identity was unlinked: it no longer signs this user in."),
    ("user_created", "The user was created."),
    ("user_invited", "The user was created and a link to choose a password was queued for their address (72 hours)."),
    ("user_saved", "The user's profile was saved."),
    ("user_disabled", "The user was disabled: their sessions and refresh tokens ended."),
    ("user_enabled", "The user was enabled."),
    ("mfa_reset", "The user's second factors and passkeys were removed; their sessions and refresh tokens ended."),
    ("sessions_revoked", "The user's sessions and refresh tokens ended."),
    ("session_ended", "The session ended."),
    ("passkey_removed", "The passkey was removed: it can no longer sign in."),
    ("client_saved", "The client was saved."),
    ("client_deleted", "The client was deleted with its codes, consents and refresh tokens."),
    ("api_created", "The API was registered. List it on the pages of the clients that may request it."),
    ("api_removed", "The API was removed: no client may request it any more."),
    ("key_rotated", "The keys were rotated: the next key signs from now on."),
    ("key_revoked", "The key was revoked: it left the JWKS and its tokens are refused."),
    ("family_revoked", "The refresh-token family was revoked."),
    ("nothing_changed", "Nothing was changed: it was changed elsewhere, or no longer exists."),
    ("rotation_raced", "Another rotation happened at the same moment; nothing more was done."),
];

/// What every admin page shows around its content.
pub struct AdminFrame {
    pub username: String,
    pub csrf_token: String,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

/// The guard of the whole `/admin` scope: a signed-in administrator whose session proved
/// two factors gets through, with a POST only when its form carries this browser's CSRF
/// token. Anyone else gets the sign-in redirect, 403, or the step-up, and no handler runs.
pub async fn admin_guard(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("no application state"));
    };
    let body = match *request.method() {
        Method::GET | Method::HEAD => None,
        _ => Some(request.extract::<Bytes>().await?),
    };
    match AdminRequest::load(&state, request.request(), body.as_deref()).await {
        Ok(admin) => {
            request.extensions_mut().insert(admin);
            Ok(next.call(request).await?.map_into_left_body())
        }
        // The step-up (or a new temporary password) is shown at /admin itself; every
        // other admin address leads there first.
        Err(Refused::StepFirst(browser)) if request.path() == "/admin" && body.is_none() => {
            match admin_step(&state.context(), &browser.browser).await.map_err(HttpError::page)? {
                Some(step) => {
                    let page = render_outcome(step, &browser, false, None)?;
                    Ok(request.into_response(page).map_into_right_body())
                }
                None => Ok(request.error_response(HttpError::SignIn { location: "/admin" }).map_into_right_body()),
            }
        }
        Err(Refused::StepFirst(_)) => {
            Ok(request.error_response(HttpError::SignIn { location: "/admin" }).map_into_right_body())
        }
        Err(Refused::Http(refused)) => Ok(request.error_response(refused).map_into_right_body()),
    }
}

/// Why the guard did not let a request in.
enum Refused {
    Http(HttpError),
    /// An administrator who must step up to two factors, or replace a temporary password.
    StepFirst(Box<PageBrowser>),
}

impl From<HttpError> for Refused {
    fn from(err: HttpError) -> Self {
        Self::Http(err)
    }
}

/// `?notice=`: a message an action left for the page it returned to, by a fixed key.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NoticeQuery {
    notice: String,
}

/// `?page=` of the long lists, 1-based.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    page: String,
}

/// The button of a confirmation page.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmField {
    confirm: String,
}

/// A request from a signed-in administrator with two factors, as the guard let it in.
pub struct AdminRequest {
    pub browser: PageBrowser,
    pub session: SessionUser,
    pub form: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// Handed over by [`admin_guard`]; a handler outside the guarded scope gets a 500, never
/// an unchecked request.
impl FromRequest for AdminRequest {
    type Error = HttpError;
    type Future = Ready<Result<Self, HttpError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let admin = request.extensions_mut().remove::<AdminRequest>();
        ready(admin.ok_or_else(|| HttpError::internal_page(std::io::Error::other("admin handler outside the guard"))))
    }
}

impl AdminRequest {
    /// The administrator behind `request` (and its form, CSRF-checked, when `body` is
    /// given). No session: sign in first; not an admin: 403; one factor: back to `/admin`,
    /// which steps up.
    async fn load(state: &AppState, request: &HttpRequest, body: Option<&[u8]>) -> Result<Self, Refused> {
        let (browser, form) = match body {
            Some(body) => PageBrowser::load_for_form(state, request, body).await?,
            None => (PageBrowser::load(state, request).await?, Vec::new()),
        };
        match admin_access(&state.context(), &browser.browser) {
            AdminAccess::Granted(session) => {
                Ok(Self { browser, session: *session, form, query: query(request).map_err(HttpError::from)? })
            }
            AdminAccess::SignIn => Err(HttpError::SignIn { location: "/login?destination=admin" }.into()),
            AdminAccess::Forbidden => Err(forbidden().into()),
            AdminAccess::StepFirst => Err(Refused::StepFirst(Box::new(browser))),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Admin(self.session.user.id)
    }

    /// The posted form as the fields `T` names (see `read_form`).
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        Ok(read_form(&self.form)?)
    }

    /// The query string as the fields `T` names.
    pub fn query<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        Ok(read_form(&self.query)?)
    }

    /// Whether the form confirms a destructive action (its confirmation page's button).
    pub fn confirmed(&self) -> Result<bool, HttpError> {
        Ok(self.form::<ConfirmField>()?.confirm == "yes")
    }

    pub fn frame(&self) -> AdminFrame {
        let notice = read_form::<NoticeQuery>(&self.query).ok().map(|q| q.notice);
        let notice = notice.and_then(|key| NOTICES.iter().find(|(k, _)| *k == key)).map(|(_, t)| *t);
        AdminFrame {
            username: self.session.user.username.to_string(),
            csrf_token: self.browser.csrf_token().to_owned(),
            notice,
            error: None,
        }
    }

    /// The page offset of `?page=` (1-based).
    pub fn offset(&self) -> (u64, u64) {
        let page = read_form::<PageQuery>(&self.query).ok().and_then(|q| q.page.parse::<u64>().ok());
        let page = page.filter(|p| (1..=100_000).contains(p));
        let page = page.unwrap_or(1);
        (page, (page - 1) * PAGE_SIZE)
    }

    pub fn render(&self, status: StatusCode, page: impl Template) -> Result<HttpResponse, HttpError> {
        Ok(self.browser.html(status).body(page.render()?))
    }

    /// A secret (a client secret, a temporary password) shown once.
    pub fn show_secret(&self, title: &str, message: &str, secret: &str, back: &str) -> Result<HttpResponse, HttpError> {
        self.render(StatusCode::OK, SecretTemplate { admin: self.frame(), title, message, secret, back })
    }

    /// A mistake in what the administrator asked for: what it was, and the way back (400).
    pub fn mistake(&self, message: &str, back: &str) -> Result<HttpResponse, HttpError> {
        let page = MessageTemplate { admin: self.frame(), title: "Nothing was changed", message, back };
        self.render(StatusCode::BAD_REQUEST, page)
    }

    /// A refused admin action: the administrator's mistake is shown ([`Self::mistake`]);
    /// any other failure takes the one error path (503 while the database is out of reach,
    /// else 500; logged with its cause, never shown).
    pub fn refused(&self, err: FlowError, back: &str) -> Result<HttpResponse, HttpError> {
        match err {
            FlowError::Mistake(message) => self.mistake(&message, back),
            other => Err(HttpError::page(other)),
        }
    }
}

pub fn forbidden() -> HttpError {
    HttpError::Page {
        status: StatusCode::FORBIDDEN,
        title: "Administrators only",
        message: "Your account is not an administrator of this sign-in service. Go to /account for your own account."
            .into(),
    }
}

/// `text` as a query-string value, for the page links that keep a list's filters.
pub fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessageTemplate<'a> {
    admin: AdminFrame,
    title: &'a str,
    message: &'a str,
    back: &'a str,
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
struct SecretTemplate<'a> {
    admin: AdminFrame,
    title: &'a str,
    message: &'a str,
    secret: &'a str,
    back: &'a str,
}

#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmTemplate<'a> {
    pub admin: AdminFrame,
    pub title: &'a str,
    pub paragraphs: Vec<String>,
    pub action: &'a str,
    pub button: &'a str,
    pub back: &'a str,
}

/// An audit event as the tables show it.
pub struct EventRow {
    pub at: String,
    pub event: String,
    pub user: String,
    pub actor: String,
    pub client: String,
    pub ip: String,
    pub details: String,
}

impl From<AuditRecord> for EventRow {
    fn from(record: AuditRecord) -> Self {
        let id = |id: Option<uuid::Uuid>| id.map_or_else(String::new, |id| id.to_string());
        Self {
            at: format_rfc3339(record.at),
            event: record.event,
            user: id(record.user_id),
            actor: id(record.actor_user_id),
            client: record.client_id.unwrap_or_default(),
            ip: record.ip.unwrap_or_default(),
            details: record.details.to_string(),
        }
    }
}
