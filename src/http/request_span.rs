//! The span every request's log lines carry: its id, method, path and route, the client's
//! address as `client_ip` trusts it, and the status. Not tracing-actix-web's default: that
//! one logs the query string (an `id_token_hint` is a signed ID token) and takes the client
//! address from `X-Forwarded-For` whoever sent it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpMessage, web};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::AppState;
use super::client_ip::client_ip;

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        let trusted = request.app_data::<web::Data<AppState>>().map(|state| state.config.trusted_proxies.as_slice());
        let client = client_ip(request.request(), trusted.unwrap_or_default()).map(|ip| ip.to_string());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
            route = tracing::field::Empty,
            client_ip = %client.unwrap_or_default(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        match outcome {
            Ok(response) => {
                if let Some(route) = response.request().match_pattern() {
                    span.record("route", route.as_str());
                }
                span.record("status", response.status().as_u16());
            }
            Err(error) => {
                span.record("status", error.as_response_error().status_code().as_u16());
            }
        }
    }
}
