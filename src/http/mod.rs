//! HTTP: routes, shared state and response shapes. Handlers parse, call one flow, and
//! render; protocol rules live in `flows`.

mod client_ip;
mod error;
pub mod extract;
mod health;
mod oidc;
pub mod pages;
mod request_span;
mod state;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{HttpResponse, web};

pub use oidc::discovery::build_document as discovery_document;
pub use request_span::RequestSpan;
pub use state::AppState;

/// Request bodies larger than this are refused with 413 before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Request headers larger than this in all are refused with 431: wristband's own cookies
/// and tokens need a fraction of it.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// No inline script, no framing, no third-party anything: styles and the passkey script
/// from this origin only, which alone the script may fetch from.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
     img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// Browsers remember for a year to reach an https issuer over https only.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Every route, on one screen. `https`: the issuer is https, so responses carry HSTS.
pub fn configure(cfg: &mut web::ServiceConfig, https: bool) {
    let mut headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY));
    if https {
        headers = headers.add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY));
    }
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES)).service(
        web::scope("")
            .wrap(headers)
            .wrap(from_fn(limit_header_size))
            .wrap(from_fn(observe_latency))
            // Routes are tried in this order, and each `{id}` pattern costs a regex match:
            // the endpoints machines call on every request come first.
            .route("/token", web::post().to(oidc::token::token_post))
            .route("/userinfo", web::get().to(oidc::userinfo::userinfo_get))
            .route("/userinfo", web::post().to(oidc::userinfo::userinfo_get))
            .route("/introspect", web::post().to(oidc::introspect::introspect_post))
            .route("/revoke", web::post().to(oidc::revoke::revoke_post))
            .route("/.well-known/openid-configuration", web::get().to(oidc::discovery::discovery_get))
            .route("/.well-known/oauth-authorization-server", web::get().to(oidc::discovery::discovery_get))
            .route("/jwks.json", web::get().to(oidc::jwks::jwks_get))
            .route("/authorize", web::get().to(pages::authorize::authorize_get))
            .route("/authorize", web::post().to(pages::authorize::authorize_post))
            .route("/login", web::get().to(pages::login::login_get))
            .route("/login", web::post().to(pages::login::login_post))
            .route("/login/mfa", web::post().to(pages::login::mfa_post))
            .route("/login/password", web::post().to(pages::login::password_post))
            .route("/login/resume", web::post().to(pages::login::resume_post))
            .route("/login/passkey", web::post().to(pages::passkeys::login_passkey_post))
            .route("/login/passkey/options", web::post().to(pages::passkeys::login_options_post))
            .route("/login/mfa/passkey/options", web::post().to(pages::passkeys::mfa_options_post))
            .route("/login/upstream/{name}", web::post().to(pages::upstream::start_post))
            .route("/login/upstream/{name}/callback", web::get().to(pages::upstream::callback_get))
            .route("/password/forgot", web::get().to(pages::links::forgot_get))
            .route("/password/forgot", web::post().to(pages::links::forgot_post))
            .route("/password/reset", web::get().to(pages::links::reset_get))
            .route("/password/reset", web::post().to(pages::links::reset_post))
            .route("/register", web::get().to(pages::links::register_get))
            .route("/register", web::post().to(pages::links::register_post))
            .route("/email/verify", web::get().to(pages::links::verify_get))
            .route("/email/verify", web::post().to(pages::links::verify_post))
            .route("/consent", web::post().to(pages::consent::consent_post))
            .route("/account", web::get().to(pages::account::account_get))
            .route("/account/sessions/end", web::post().to(pages::account::end_session_post))
            .route("/account/apps/revoke", web::post().to(pages::account::revoke_app_post))
            .route("/account/password", web::post().to(pages::account::password_post))
            .route("/account/email", web::post().to(pages::account::email_post))
            .route("/account/email/verify", web::post().to(pages::account::email_verify_post))
            .route("/account/mfa", web::get().to(pages::account::mfa_get))
            .route("/account/mfa/enable", web::post().to(pages::account::mfa_enable_post))
            .route("/account/mfa/disable", web::post().to(pages::account::mfa_disable_post))
            .route("/account/mfa/recovery-codes", web::post().to(pages::account::recovery_codes_post))
            .route("/account/upstreams/link", web::post().to(pages::upstream::link_post))
            .route("/account/upstreams/unlink", web::post().to(pages::upstream::unlink_post))
            .route("/account/passkeys", web::get().to(pages::passkeys::passkeys_get))
            .route("/account/passkeys", web::post().to(pages::passkeys::passkeys_post))
            .route("/account/passkeys/options", web::post().to(pages::passkeys::passkeys_options_post))
            .route("/account/passkeys/rename", web::post().to(pages::passkeys::passkey_rename_post))
            .route("/account/passkeys/remove", web::post().to(pages::passkeys::passkey_remove_post))
            .service(admin_scope())
            .route("/end_session", web::get().to(pages::logout::end_session_get))
            .route("/end_session", web::post().to(pages::logout::end_session_post))
            .route("/end_session/confirm", web::post().to(pages::logout::end_session_confirm_post))
            .route("/static/wristband.css", web::get().to(pages::stylesheet_get))
            .route("/static/passkeys.js", web::get().to(pages::passkeys::script_get))
            .route("/healthz", web::get().to(health::healthz_get))
            .route("/readyz", web::get().to(health::readyz_get)),
    );
}

/// Declares every route under `/admin` once: the scope that serves them behind one guard
/// ([`pages::admin::admin_guard`]: an administrator, two factors, CSRF on every POST), and
/// [`ADMIN_ROUTES`], the list tests walk to prove that no admin route answers anyone else.
macro_rules! admin_routes {
    ($($method:ident $path:literal => $handler:ident),* $(,)?) => {
        /// Every admin route: its method and path, as served.
        pub const ADMIN_ROUTES: &[(&str, &str)] = &[$((stringify!($method), concat!("/admin", $path))),*];

        fn admin_scope() -> actix_web::Scope<
            impl actix_web::dev::ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<impl MessageBody>,
                Error = actix_web::Error,
                InitError = (),
            >,
        > {
            web::scope("/admin")
                .wrap(from_fn(pages::admin::admin_guard))
                $(.route($path, admin_routes!(@method $method).to(pages::admin::$handler)))*
        }
    };
    (@method GET) => { web::get() };
    (@method POST) => { web::post() };
}

admin_routes! {
    GET "" => admin_get,
    GET "/users" => users_get,
    POST "/users" => users_post,
    GET "/users/{id}" => user_get,
    POST "/users/{id}" => user_post,
    POST "/users/{id}/sessions/{sid}/end" => session_end_post,
    POST "/users/{id}/passkeys/{passkey}/remove" => passkey_remove_post,
    POST "/users/{id}/identities/{upstream}/unlink" => identity_unlink_post,
    POST "/users/{id}/{action}" => user_action_post,
    GET "/clients" => clients_get,
    POST "/clients" => clients_post,
    GET "/clients/{id}" => client_get,
    POST "/clients/{id}" => client_post,
    POST "/clients/{id}/rotate-secret" => client_rotate_secret_post,
    GET "/clients/{id}/delete" => client_delete_confirm_get,
    POST "/clients/{id}/delete" => client_delete_post,
    GET "/apis" => apis_get,
    POST "/apis" => apis_post,
    GET "/apis/remove" => api_remove_confirm_get,
    POST "/apis/remove" => api_remove_post,
    GET "/upstreams" => upstreams_get,
    POST "/upstreams" => upstreams_post,
    GET "/upstreams/remove" => upstream_remove_confirm_get,
    POST "/upstreams/remove" => upstream_remove_post,
    GET "/keys" => keys_get,
    POST "/keys/rotate" => keys_rotate_post,
    GET "/keys/{kid}/revoke" => key_revoke_confirm_get,
    POST "/keys/{kid}/revoke" => key_revoke_post,
    GET "/families" => families_get,
    POST "/families/{id}/revoke" => family_revoke_post,
    GET "/audit" => audit_get,
    GET "/mail" => mail_get,
    GET "/inspect" => inspect_get,
    POST "/inspect" => inspect_post,
}

/// Records how long each request took, under the route pattern it matched.
async fn observe_latency(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let response = next.call(request).await?;
    let request = response.request();
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        let route = request.match_pattern().filter(|p| !p.is_empty()).unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.request(route, method_label(request.method()), response.status().as_u16(), started.elapsed());
    }
    Ok(response)
}

/// The method as a metrics label. Clients may send any token as a method; each distinct
/// label would be a new time series, so the unusual ones share one.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// The metrics, for Prometheus; served on `metrics_bind` only.
pub async fn metrics_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(state.metrics.render(state.store.pool_usage(), state.store.outbox_usage().await.ok()))
}

/// Refuses requests whose headers together exceed `MAX_HEADER_BYTES`, before any handler.
async fn limit_header_size(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let size: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if size > MAX_HEADER_BYTES {
        let response = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("The request headers are too large; nothing was done.");
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request).await.map(ServiceResponse::map_into_left_body)
}
