//! Authorization responses (RFC 6749 §4.1.2 and §4.1.2.1): the registered redirect URI
//! with `code` or `error`, the unchanged `state`, and `iss` (RFC 9207). Any query the
//! registered URI already has is kept (RFC 6749 §3.1.2).

use url::Url;

use super::error::OAuthError;

pub fn success(redirect_uri: &str, code: &str, state: Option<&str>, issuer: &str) -> Result<Url, url::ParseError> {
    build(redirect_uri, &[("code", code)], state, issuer)
}

pub fn error(
    redirect_uri: &str,
    error: &OAuthError,
    state: Option<&str>,
    issuer: &str,
) -> Result<Url, url::ParseError> {
    build(redirect_uri, &[("error", error.code.as_str()), ("error_description", error.description)], state, issuer)
}

fn build(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Result<Url, url::ParseError> {
    let mut url = Url::parse(redirect_uri)?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::error::ErrorCode;

    #[test]
    fn success_keeps_the_registered_query_and_adds_code_state_and_iss() {
        let url =
            success("https://app.example.com/cb?tenant=a", "c0de", Some("s t&x"), "https://id.example.com").unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("tenant".into(), "a".into()),
                ("code".into(), "c0de".into()),
                ("state".into(), "s t&x".into()),
                ("iss".into(), "https://id.example.com".into())
            ]
        );
    }

    #[test]
    fn errors_carry_code_description_and_no_state_when_none_was_sent() {
        let err = OAuthError::new(ErrorCode::AccessDenied, "The person declined.", "declined");
        let url = error("http://127.0.0.1:9000/cb", &err, None, "http://127.0.0.1:8080").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9000/cb?error=access_denied&error_description=The+person+declined.&iss=http%3A%2F%2F127.0.0.1%3A8080"
        );
    }
}
