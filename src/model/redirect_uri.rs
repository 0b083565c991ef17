use url::Url;

use super::{InvalidValue, string_newtype};

/// A registered redirect URI (RFC 6749 §3.1.2): absolute, no fragment, no credentials,
/// https, or http only on a loopback host (RFC 8252 §7.3), or a private-use scheme for
/// native apps (RFC 8252 §7.1). The text is kept exactly as registered, because
/// `/authorize` compares redirect URIs as exact strings (RFC 9700 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);
string_newtype!(RedirectUri);

const FORBIDDEN_SCHEMES: [&str; 5] = ["javascript", "data", "file", "vbscript", "about"];

impl RedirectUri {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: String| InvalidValue::new("redirect URI", format!("`{input}` {reason}"));
        if input.len() > 2000 || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must be at most 2000 characters without spaces".into()));
        }
        let url = Url::parse(input).map_err(|e| invalid(format!("is not an absolute URI ({e})")))?;
        if url.fragment().is_some() || input.contains('#') {
            return Err(invalid("must not contain a fragment (#)".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain user credentials".into()));
        }
        match url.scheme() {
            "https" => Ok(Self(input.to_owned())),
            "http" if url.host_str().is_some_and(is_loopback) => Ok(Self(input.to_owned())),
            "http" => Err(invalid("uses http:// on a non-loopback host; use https://".into())),
            scheme if FORBIDDEN_SCHEMES.contains(&scheme) => {
                Err(invalid(format!("uses the forbidden scheme {scheme}:")))
            }
            scheme if scheme.contains('.') => Ok(Self(input.to_owned())),
            scheme => Err(invalid(format!(
                "uses the scheme {scheme}:; native apps must use a reverse-domain scheme like com.example.app:"
            ))),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_text_is_kept_exactly() {
        let uri = RedirectUri::parse("https://App.example.com:443/cb?x=1").unwrap();
        assert_eq!(uri.as_str(), "https://App.example.com:443/cb?x=1");
    }

    #[test]
    fn accepted_shapes() {
        for good in [
            "https://app.example.com/cb",
            "http://127.0.0.1:9000/cb",
            "http://localhost/cb",
            "http://[::1]:80/",
            "com.example.app:/oauth",
        ] {
            assert!(RedirectUri::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn refused_shapes_say_why() {
        let cases = [
            ("/relative", "absolute"),
            ("https://app.example.com/cb#frag", "fragment"),
            ("https://user:pw@app.example.com/cb", "credentials"),
            ("http://app.example.com/cb", "non-loopback"),
            ("javascript:alert(1)", "forbidden"),
            ("myapp:/cb", "reverse-domain"),
            ("https://app.example.com/c b", "spaces"),
        ];
        for (bad, reason) in cases {
            let err = RedirectUri::parse(bad).unwrap_err().to_string();
            assert!(err.contains(reason), "{bad}: {err}");
        }
    }
}
