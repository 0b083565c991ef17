//! Mail: messages rendered from templates (plain text and HTML, links absolute on the
//! issuer), queued in the outbox in the same transaction as what causes them, and sent by
//! a worker on any instance ([`sender`]). The body is sealed under the master key while it
//! waits (it may carry a single-use link) and dropped once sent.

pub mod messages;
pub mod sender;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use super::error::FlowError;
use crate::model::MailKind;
use crate::store::NewMail;

/// A rendered message, ready to queue.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub body: Body,
}

/// What the sealed body holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    pub text: String,
    pub html: String,
}

/// The purpose a message's body is sealed under: it opens for that message only.
fn body_purpose(id: Uuid) -> String {
    format!("mail:{id}")
}

/// The message as an outbox row, its body sealed.
pub fn seal(ctx: &Context<'_>, message: Message) -> Result<NewMail, FlowError> {
    let id = Uuid::now_v7();
    let body = serde_json::to_vec(&message.body).map_err(|e| FlowError::Internal(Box::new(e)))?;
    Ok(NewMail {
        id,
        kind: message.kind,
        recipient: message.to,
        subject: message.subject,
        sealed_body: ctx.master_key.seal(&body_purpose(id), &body)?,
    })
}

/// Queues a message on its own (a notice, not part of another change).
pub async fn queue(ctx: &Context<'_>, message: Message) -> Result<(), FlowError> {
    let mail = seal(ctx, message)?;
    Ok(ctx.store.queue_mail(mail, ctx.clock.now()).await?)
}

/// The name messages give the service: the issuer's host.
pub fn site_name(issuer: &str) -> String {
    url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| issuer.to_owned())
}

/// Sends `user` a single-use link of `purpose` to `to`, valid `seconds`, bound to
/// `binding` (what it may change): the link and its message are kept in one transaction,
/// and the person's older links of the same purpose stop working. `message` renders the
/// mail around the link.
pub async fn send_link(
    ctx: &Context<'_>,
    user_id: Uuid,
    purpose: crate::model::LinkPurpose,
    binding: &str,
    seconds: i64,
    path: &str,
    message: impl FnOnce(&str) -> Result<Message, FlowError>,
) -> Result<(), FlowError> {
    let token = crate::security::random::opaque_secret("wbl_")?;
    let link = format!("{}{path}?token={token}", ctx.config.issuer);
    let mail = seal(ctx, message(&link)?)?;
    let now = ctx.clock.now();
    let kept = crate::model::MailLink {
        purpose,
        user_id,
        binding: crate::security::random::sha256_hex(binding),
        expires_at: now + seconds,
    };
    Ok(ctx.store.issue_mail_link(crate::security::random::sha256_hex(&token), kept, mail, now).await?)
}
