//! `/admin/mail`: the outbox, newest first. Bodies are never shown (they may carry a
//! single-use link, and are dropped once sent); what was sent to whom, when, and why a
//! message is still waiting.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminFrame, AdminRequest, PAGE_SIZE};
use crate::clock::format_rfc3339;
use crate::flows::admin::lists;
use crate::http::AppState;
use crate::http::error::HttpError;

struct MailRow {
    created: String,
    kind: &'static str,
    recipient: String,
    subject: String,
    state: &'static str,
    attempts: u32,
    when: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailTemplate {
    admin: AdminFrame,
    messages: Vec<MailRow>,
}

pub async fn mail_get(admin: AdminRequest, state: web::Data<AppState>) -> Result<HttpResponse, HttpError> {
    let messages = lists::recent_mail(&state.context(), PAGE_SIZE).await.map_err(HttpError::page)?;
    let messages = messages
        .into_iter()
        .map(|m| MailRow {
            created: format_rfc3339(m.created_at),
            kind: m.kind.as_str(),
            state: m.state().as_str(),
            when: m
                .sent_at
                .or(m.failed_at)
                .map_or_else(|| format!("next try {}", format_rfc3339(m.next_attempt_at)), format_rfc3339),
            recipient: m.recipient,
            subject: m.subject,
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
        })
        .collect();
    admin.render(StatusCode::OK, MailTemplate { admin: admin.frame(), messages })
}
