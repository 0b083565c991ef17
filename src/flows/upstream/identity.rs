//! Who an upstream's person is here. A linked identity (upstream, subject) names the
//! local user; without one, a first sign-in links by an address both sides verified (when
//! the upstream allows it), makes an account (when it allows that), or is refused. Links
//! are made and removed by the person on `/account` and by administrators.

use uuid::Uuid;

use super::id_token::IdClaims;
use crate::flows::error::FlowError;
use crate::flows::session::RequestMeta;
use crate::flows::{Actor, Context};
use crate::model::{
    ACR_PHISHING_RESISTANT, ACR_TWO_FACTOR, ClaimMapping, DisplayName, Email, LinkedIdentity, Upstream, UpstreamName,
    User, Username,
};
use crate::security::random::{generated_password, random_bytes};
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, NewUser, StoreError};

/// `acr` values an upstream uses for a login with a second factor: wristband's own, and
/// the PAPE multi-factor policy.
const MFA_ACRS: [&str; 3] =
    [ACR_TWO_FACTOR, ACR_PHISHING_RESISTANT, "http://schemas.openid.net/pape/policies/2007/06/multi-factor"];

/// What the upstream proved about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub username: Option<String>,
    pub name: Option<String>,
    /// The upstream says its login used a second factor (`amr` `mfa`, or such an `acr`).
    pub upstream_mfa: bool,
}

impl Identity {
    pub fn from_id_token(claims: IdClaims) -> Self {
        let upstream_mfa =
            claims.amr.iter().any(|m| m == "mfa") || claims.acr.as_deref().is_some_and(|acr| MFA_ACRS.contains(&acr));
        Self {
            subject: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified,
            username: claims.preferred_username,
            name: claims.name,
            upstream_mfa,
        }
    }

    /// The person in a plain OAuth 2.0 provider's user document; `None` without a
    /// subject. A number (GitHub's `id`) is taken as its decimal text.
    pub fn from_document(
        document: &serde_json::Map<String, serde_json::Value>,
        mapping: &ClaimMapping,
    ) -> Option<Self> {
        let text = |member: Option<&str>| -> Option<String> {
            match document.get(member?)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let subject = text(Some(&mapping.subject)).filter(|s| s.len() <= 255)?;
        let email_verified = mapping
            .email_verified
            .as_deref()
            .and_then(|member| document.get(member))
            .is_some_and(|v| v.as_bool() == Some(true));
        Some(Self {
            subject,
            email: text(mapping.email.as_deref()),
            email_verified,
            username: text(mapping.username.as_deref()),
            name: text(mapping.name.as_deref()),
            upstream_mfa: false,
        })
    }

    fn link_for(&self, upstream: &UpstreamName, user_id: Uuid, now: i64) -> LinkedIdentity {
        LinkedIdentity {
            upstream: upstream.clone(),
            subject: self.subject.clone(),
            user_id,
            email: self.email.clone().filter(|e| e.len() <= 320),
            username: self.username.clone().map(|u| u.chars().take(255).collect()),
            created_at: now,
            last_used_at: Some(now),
        }
    }
}

/// Who signs in.
#[derive(Debug)]
pub enum Resolved {
    User(User),
    /// No link, and the upstream may neither link by address nor make accounts.
    NotLinked,
    /// The linked account is disabled or waits for its address to be verified.
    Unavailable,
}

/// The local user of `identity`: linked already, linked now by a verified address, or
/// made now; each new link and account is audited.
pub async fn resolve(
    ctx: &Context<'_>,
    upstream: &Upstream,
    identity: &Identity,
    meta: &RequestMeta,
) -> Result<Resolved, FlowError> {
    let now = ctx.clock.now();
    if let Some(link) = ctx.store.find_linked_identity(&upstream.name, &identity.subject).await? {
        let user = ctx.store.find_user(link.user_id).await?;
        let Some(user) = user.filter(|u| !u.disabled && !u.verify_before_sign_in) else {
            return Ok(Resolved::Unavailable);
        };
        ctx.store.touch_linked_identity(&identity.link_for(&upstream.name, user.id, now), now).await?;
        return Ok(Resolved::User(user));
    }
    if let Some(user) = by_verified_email(ctx, upstream, identity).await? {
        let link = identity.link_for(&upstream.name, user.id, now);
        return Ok(match ctx.store.insert_linked_identity(&link).await {
            Ok(()) => {
                audit_link(ctx, &link, "verified_email", Actor::System, meta).await?;
                Resolved::User(user)
            }
            // The account has another identity of this upstream: an address is no reason
            // to replace it.
            Err(StoreError::Conflict(_)) => Resolved::NotLinked,
            Err(err) => return Err(err.into()),
        });
    }
    if !upstream.create_users {
        return Ok(Resolved::NotLinked);
    }
    let Some(user) = create_user(ctx, upstream, identity).await? else {
        // A concurrent callback for the same identity made its account first: that one.
        return Box::pin(resolve(ctx, upstream, identity, meta)).await;
    };
    let event = AuditEvent::new("user_created").user(user.id).ip(meta.ip.clone()).details(serde_json::json!({
        "username": user.username, "admin": false, "upstream": upstream.name, "upstream_subject": identity.subject,
    }));
    ctx.store.record_audit(Actor::System.stamp(event), now).await?;
    let link = identity.link_for(&upstream.name, user.id, now);
    audit_link(ctx, &link, "created_user", Actor::System, meta).await?;
    Ok(Resolved::User(user))
}

/// The one enabled account whose verified address is the one the upstream verified, when
/// the upstream links by address.
async fn by_verified_email(
    ctx: &Context<'_>,
    upstream: &Upstream,
    identity: &Identity,
) -> Result<Option<User>, FlowError> {
    let Some(email) = identity.email.as_deref().filter(|_| upstream.link_by_verified_email && identity.email_verified)
    else {
        return Ok(None);
    };
    let mut users = ctx.store.find_users_by_verified_email(email).await?;
    // Two accounts with one address: neither is picked.
    Ok(if users.len() == 1 { users.pop().filter(|u| !u.verify_before_sign_in) } else { None })
}

/// A new account for an upstream identity, linked to it in the same transaction; `None`
/// when the identity was linked meanwhile. Its password is random and never shown: the
/// person signs in through the upstream (or sets one through "Forgot your password?").
async fn create_user(ctx: &Context<'_>, upstream: &Upstream, identity: &Identity) -> Result<Option<User>, FlowError> {
    let placeholder = SecretString::new(generated_password()?);
    let password_hash = ctx.hasher.hash(&placeholder).await?;
    // An address is kept only when the upstream verified it, and then counts as verified.
    let email = identity.email.as_deref().filter(|_| identity.email_verified).and_then(|e| Email::parse(e).ok());
    let name = identity.name.as_deref().and_then(|n| DisplayName::parse(n).ok());
    let base = identity
        .username
        .as_deref()
        .and_then(|u| Username::parse(u).ok())
        .map_or_else(|| upstream.name.to_string(), |u| u.to_string());
    for attempt in 0..4 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            let [a, b] = random_bytes::<2>()?;
            format!("{}-{:04}", base.chars().take(58).collect::<String>(), u16::from_be_bytes([a, b]) % 10_000)
        };
        let Ok(username) = Username::parse(&candidate) else { continue };
        let new = NewUser {
            username,
            email: email.clone(),
            name: name.clone(),
            password_hash: password_hash.clone(),
            roles: Vec::new(),
            is_admin: false,
            password_change_required: false,
            verify_before_sign_in: false,
        };
        let now = ctx.clock.now();
        let link = identity.link_for(&upstream.name, Uuid::nil(), now);
        match ctx.store.insert_user_with_link(new, email.is_some(), link, now).await {
            Ok(user) => return Ok(Some(user)),
            Err(StoreError::Conflict(_)) => {
                if ctx.store.find_linked_identity(&upstream.name, &identity.subject).await?.is_some() {
                    return Ok(None);
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(FlowError::mistake("No free username was found for the new account. Ask your administrator for an account."))
}

/// How linking went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Linked,
    /// This identity was linked to this account already.
    AlreadyYours,
    /// This identity is linked to another account: nothing changed.
    LinkedToSomeoneElse,
    /// The account has another identity of this upstream: unlink that first.
    UpstreamTaken,
}

/// Links `identity` to `user` (the signed-in person who started the link).
pub async fn link(
    ctx: &Context<'_>,
    upstream: &Upstream,
    identity: &Identity,
    user: &User,
    meta: &RequestMeta,
) -> Result<LinkOutcome, FlowError> {
    if let Some(existing) = ctx.store.find_linked_identity(&upstream.name, &identity.subject).await? {
        return Ok(if existing.user_id == user.id {
            LinkOutcome::AlreadyYours
        } else {
            LinkOutcome::LinkedToSomeoneElse
        });
    }
    let link = identity.link_for(&upstream.name, user.id, ctx.clock.now());
    match ctx.store.insert_linked_identity(&link).await {
        Ok(()) => {
            audit_link(ctx, &link, "account_page", Actor::Own, meta).await?;
            Ok(LinkOutcome::Linked)
        }
        Err(StoreError::Conflict(_)) => {
            let mine = ctx.store.list_linked_identities(user.id).await?;
            Ok(if mine.iter().any(|l| l.upstream == upstream.name) {
                LinkOutcome::UpstreamTaken
            } else {
                LinkOutcome::LinkedToSomeoneElse
            })
        }
        Err(err) => Err(err.into()),
    }
}

async fn audit_link(
    ctx: &Context<'_>,
    link: &LinkedIdentity,
    how: &str,
    actor: Actor,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    let event = AuditEvent::new("upstream_identity_linked")
        .user(link.user_id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "upstream": link.upstream, "upstream_subject": link.subject, "how": how }));
    ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    Ok(())
}

/// The identities linked to a user.
pub async fn linked_identities(ctx: &Context<'_>, user_id: Uuid) -> Result<Vec<LinkedIdentity>, FlowError> {
    Ok(ctx.store.list_linked_identities(user_id).await?)
}

/// Unlinks `user_id`'s identity of `upstream`; `false` when there was none. The person's
/// sessions stay: unlinking removes a way in, not the people already in.
pub async fn unlink(ctx: &Context<'_>, user_id: Uuid, upstream: &str, actor: Actor) -> Result<bool, FlowError> {
    let Ok(name) = UpstreamName::parse(upstream) else { return Ok(false) };
    let removed = ctx.store.delete_linked_identity(user_id, &name).await?;
    if removed {
        let event = AuditEvent::new("upstream_identity_unlinked")
            .user(user_id)
            .details(serde_json::json!({ "upstream": name }));
        ctx.store.record_audit(actor.stamp(event), ctx.clock.now()).await?;
    }
    Ok(removed)
}

/// A provider the logout page offers to sign out of too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionOffer {
    pub display_name: String,
    /// Its `end_session_endpoint` (RP-Initiated Logout 1.0), with our `client_id`.
    pub url: url::Url,
}

/// The providers, among those linked to `user_id`, configured to be offered on the logout
/// page and advertising an end-session endpoint. A provider that cannot be reached now is
/// left out: logging out here never waits on it for long nor fails because of it.
pub async fn end_session_offers(ctx: &Context<'_>, user_id: Uuid) -> Result<Vec<EndSessionOffer>, FlowError> {
    let mut offers = Vec::new();
    for link in ctx.store.list_linked_identities(user_id).await? {
        let Some(upstream) = ctx.store.find_upstream(&link.upstream).await?.filter(|u| u.offer_end_session) else {
            continue;
        };
        let Ok(endpoints) = ctx.upstreams.endpoints(&upstream, ctx.clock.now()).await else { continue };
        if let Some(mut url) = endpoints.end_session {
            url.query_pairs_mut().append_pair("client_id", &upstream.client_id);
            offers.push(EndSessionOffer { display_name: upstream.display_name, url });
        }
    }
    Ok(offers)
}
