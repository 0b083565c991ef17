//! Sends the outbox: each due message is claimed with a lease (so one instance sends it),
//! built with lettre and handed to the SMTP server, or written as an `.eml` file when no
//! server is configured. A failure is retried with exponential backoff; after
//! [`MAX_ATTEMPTS`] the message is given up on and audited. A mail server that is down
//! delays mail; it fails no request and loses no message.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Body, body_purpose};
use crate::config::{MailDelivery, MailSettings, SmtpTls};
use crate::flows::Context;
use crate::flows::backchannel::backoff_seconds;
use crate::flows::error::FlowError;
use crate::model::QueuedMail;
use crate::store::AuditEvent;

/// Attempts before a message is given up on: with the back-off (5 s doubling to an hour),
/// about two days of retries, longer than a mail server's usual outage and than most
/// links the messages carry.
pub const MAX_ATTEMPTS: u32 = 56;
/// How long a claimed message is reserved for the instance sending it.
const LEASE_SECONDS: i64 = 120;
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Where messages go.
pub enum Transport {
    Files(PathBuf),
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

impl Transport {
    /// The transport the settings describe; an SMTP connection is made per batch.
    pub fn new(settings: &MailSettings) -> Result<Self, FlowError> {
        let smtp = match &settings.delivery {
            MailDelivery::Files(dir) => return Ok(Self::Files(dir.clone())),
            MailDelivery::Smtp(smtp) => smtp,
        };
        let internal = |e: lettre::transport::smtp::Error| FlowError::Internal(Box::new(e));
        let tls = match smtp.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(TlsParameters::new(smtp.host.clone()).map_err(internal)?),
            SmtpTls::Implicit => Tls::Wrapper(TlsParameters::new(smtp.host.clone()).map_err(internal)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
            .port(smtp.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.expose().to_owned()));
        }
        Ok(Self::Smtp(Box::new(builder.build())))
    }

    /// Where start-up says mail goes.
    pub fn describe(settings: &MailSettings) -> String {
        match &settings.delivery {
            MailDelivery::Files(dir) => {
                format!("no SMTP server configured (smtp.url): mail is written as .eml files to {}", dir.display())
            }
            MailDelivery::Smtp(smtp) => format!("mail is sent through {}:{}", smtp.host, smtp.port),
        }
    }
}

/// Sends the messages that are due; returns how many were sent.
pub async fn send_due(ctx: &Context<'_>, transport: &Transport) -> Result<usize, FlowError> {
    let mut sent = 0;
    for mail in ctx.store.due_mail(ctx.clock.now(), 20).await? {
        if !ctx.store.claim_mail(&mail, ctx.clock.now() + LEASE_SECONDS).await? {
            continue;
        }
        if send(ctx, transport, &mail).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn send(ctx: &Context<'_>, transport: &Transport, mail: &QueuedMail) -> Result<bool, FlowError> {
    let now = ctx.clock.now();
    let attempts = mail.attempts + 1;
    let outcome = match build(ctx, mail) {
        Ok(message) => deliver(transport, mail, message).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => {
            ctx.store.mark_mail_sent(mail.id, now).await?;
            ctx.metrics.mail(mail.kind.as_str(), "sent");
            Ok(true)
        }
        Err(error) if attempts >= MAX_ATTEMPTS => {
            tracing::error!(mail = %mail.id, %error, "mail given up on");
            ctx.store.fail_mail(mail.id, now, &error).await?;
            ctx.metrics.mail(mail.kind.as_str(), "failed");
            let event = AuditEvent::new("mail_failed")
                .details(serde_json::json!({ "mail": mail.id, "kind": mail.kind.as_str(), "error": error }));
            ctx.store.record_audit(event, now).await?;
            Ok(false)
        }
        Err(error) => {
            tracing::warn!(mail = %mail.id, %error, attempts, "mail not sent; it is retried");
            ctx.store.retry_mail(mail.id, now + backoff_seconds(attempts), &error).await?;
            ctx.metrics.mail(mail.kind.as_str(), "retried");
            Ok(false)
        }
    }
}

fn build(ctx: &Context<'_>, mail: &QueuedMail) -> Result<lettre::Message, String> {
    let sealed = mail.sealed_body.as_ref().ok_or("the body is gone")?;
    let body = ctx.master_key.open(&body_purpose(mail.id), sealed).map_err(|e| e.to_string())?;
    let Body { text, html } = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let from: Mailbox = ctx.config.mail.from.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    let to: Mailbox = mail.recipient.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@wristband>", mail.id)))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| e.to_string())
}

async fn deliver(transport: &Transport, mail: &QueuedMail, message: lettre::Message) -> Result<(), String> {
    match transport {
        Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        Transport::Files(dir) => {
            tokio::fs::create_dir_all(dir).await.map_err(|e| e.to_string())?;
            let path = dir.join(format!("{}.eml", mail.id));
            tokio::fs::write(&path, message.formatted()).await.map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}
