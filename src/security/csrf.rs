//! Cross-site request forgery defences for wristband's own forms.
//!
//! The form token is an HMAC of the browser's CSRF cookie (random, `__Host-`, HttpOnly)
//! and its session id: a token is worthless in another browser, and a form rendered
//! before a login or for another session is refused after it. On top, a posted form must
//! not come from another site, by the Fetch Metadata, Origin or Referer headers the
//! browser sent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::master_key::{MasterKey, SealError};
use uuid::Uuid;

const PURPOSE: &str = "csrf";

/// The token a form rendered for this browser and session carries.
pub fn form_token(master_key: &MasterKey, csrf_cookie: &str, sid: Option<Uuid>) -> Result<String, SealError> {
    let message = format!("{csrf_cookie}\0{}", sid.map(|sid| sid.to_string()).unwrap_or_default());
    Ok(URL_SAFE_NO_PAD.encode(master_key.mac(PURPOSE, message.as_bytes())?))
}

/// What the browser said about where a POST came from.
#[derive(Debug, Default, Clone, Copy)]
pub struct PostSource<'a> {
    pub sec_fetch_site: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
}

impl PostSource<'_> {
    /// Whether the POST may be one of our own forms. Browsers that send Fetch Metadata are
    /// believed first. Because of `Referrer-Policy: no-referrer`, browsers send
    /// `Origin: null` and no Referer on our own forms; an older browser that sends no
    /// Fetch Metadata either leaves the decision to the form token, as does a client that
    /// is not a browser at all.
    pub fn is_same_origin(&self, issuer: &str) -> bool {
        if let Some(site) = self.sec_fetch_site {
            return matches!(site, "same-origin" | "none");
        }
        if let Some(origin) = self.origin.filter(|o| *o != "null") {
            return origin_of(origin).is_some_and(|o| o == origin_of(issuer).unwrap_or_default());
        }
        self.referer.is_none_or(|referer| origin_of(referer).is_some_and(|o| Some(o) == origin_of(issuer)))
    }
}

/// `scheme://host[:port]` of a URL, as browsers serialize an origin.
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://id.example.com";

    fn key() -> MasterKey {
        MasterKey::load_or_create(&crate::config::MasterKeySource::Inline([9; 32])).unwrap()
    }

    #[test]
    fn a_token_is_bound_to_its_cookie_and_its_session() {
        let key = key();
        let (sid_1, sid_2) = (Uuid::new_v4(), Uuid::new_v4());
        let token = form_token(&key, "cookie-a", Some(sid_1)).unwrap();
        assert_eq!(token, form_token(&key, "cookie-a", Some(sid_1)).unwrap());
        assert_ne!(token, form_token(&key, "cookie-b", Some(sid_1)).unwrap(), "another browser");
        assert_ne!(token, form_token(&key, "cookie-a", Some(sid_2)).unwrap(), "another session");
        assert_ne!(token, form_token(&key, "cookie-a", None).unwrap(), "signed out since");
        let other_key = MasterKey::load_or_create(&crate::config::MasterKeySource::Inline([8; 32])).unwrap();
        assert_ne!(token, form_token(&other_key, "cookie-a", Some(sid_1)).unwrap(), "another deployment");
    }

    #[test]
    fn fetch_metadata_decides_first() {
        let from = |site| PostSource { sec_fetch_site: Some(site), origin: Some("null"), referer: None };
        assert!(from("same-origin").is_same_origin(ISSUER));
        assert!(!from("cross-site").is_same_origin(ISSUER));
        assert!(!from("same-site").is_same_origin(ISSUER), "a sibling subdomain is another application");
    }

    #[test]
    fn without_fetch_metadata_origin_then_referer_decide() {
        let origin = |o| PostSource { origin: Some(o), ..PostSource::default() };
        assert!(origin("https://id.example.com").is_same_origin(ISSUER));
        assert!(!origin("https://evil.example").is_same_origin(ISSUER));
        assert!(!origin("http://id.example.com").is_same_origin(ISSUER), "another scheme");
        assert!(!origin("https://id.example.com:8443").is_same_origin(ISSUER), "another port");
        assert!(origin("null").is_same_origin(ISSUER), "what no-referrer makes of our own forms");
        let referer = |r| PostSource { referer: Some(r), ..PostSource::default() };
        assert!(referer("https://id.example.com/login?x=1").is_same_origin(ISSUER));
        assert!(!referer("https://id.example.com.evil.example/").is_same_origin(ISSUER));
        assert!(PostSource::default().is_same_origin(ISSUER), "no browser headers: the token decides");
    }
}
