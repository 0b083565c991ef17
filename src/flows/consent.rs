//! The consent page's answer. Only the person who logged in for the request, in the
//! browser that started it, can answer; a request that never showed the page cannot be
//! answered by posting to it.

use super::Context;
use super::error::{ErrorCode, FlowError, OAuthError};
use super::interaction::gate::Verdict;
use super::interaction::{self, Browser, Step};
use super::resource::load_apis;
use crate::store::AuditEvent;

pub async fn decide_consent(
    ctx: &Context<'_>,
    request_id: &str,
    allow: bool,
    browser: &Browser,
) -> Result<Step, FlowError> {
    let Some((pending, client)) = interaction::find_pending(ctx, request_id, &browser.csrf_cookie).await? else {
        return Ok(Step::Expired);
    };
    let Some(session) = &browser.session else { return Ok(Step::Expired) };
    // The consent page was shown to this session: it bound the request to it.
    if pending.user_id != Some(session.user.id) || pending.sid != Some(session.session.sid) {
        return Ok(Step::Expired);
    }
    let Verdict::Admitted(admitted) = interaction::judge_pending(ctx, &pending, &client, Some(session)) else {
        return Ok(Step::Expired);
    };
    let request = admitted.request();
    let now = ctx.clock.now();
    if !allow {
        let event = AuditEvent::new("consent_declined").user(session.user.id).client(request.client_id.as_str());
        ctx.store.record_audit(event, now).await?;
        let error = OAuthError::new(ErrorCode::AccessDenied, "The person declined the request.", "consent declined");
        return interaction::finish_with_error(ctx, request_id, &admitted, &error).await;
    }
    let consented = request.scope.qualified(&load_apis(ctx, &request.resources).await?);
    ctx.store.grant_consent(session.user.id, &request.client_id, &consented, now).await?;
    let event = AuditEvent::new("consent_granted")
        .user(session.user.id)
        .client(request.client_id.as_str())
        .details(serde_json::json!({ "scope": request.scope.to_string() }));
    ctx.store.record_audit(event, now).await?;
    interaction::issue_code(ctx, Some(request_id), &admitted).await
}
