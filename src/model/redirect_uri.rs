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

impl RedirectUri {
    /// Whether `requested` is this URI with another port, which RFC 8252 §7.3 allows for a
    /// native app's loopback redirect: `http` on a loopback IP literal (127.0.0.0/8 or
    /// `[::1]`), the port chosen by the app at run time. Everything else but the port
    /// must be the same, letter for letter. `localhost` does not qualify (§8.3: it may
    /// resolve elsewhere), nor does any other host.
    pub fn matches_with_any_port(&self, requested: &str) -> bool {
        let (Ok(registered), Ok(asked)) = (Url::parse(self.as_str()), Url::parse(requested)) else { return false };
        let loopback_ip = match registered.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        if registered.scheme() != "http" || !loopback_ip {
            return false;
        }
        let mut expected = registered;
        expected.set_port(asked.port()).is_ok() && expected.as_str() == requested
    }

    /// A loopback redirect URI on `localhost`: it matches exactly, like any other, but
    /// RFC 8252 §8.3 recommends the IP literal for native apps.
    pub fn is_localhost(&self) -> bool {
        Url::parse(self.as_str()).is_ok_and(|url| url.scheme() == "http" && url.host_str() == Some("localhost"))
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
    fn loopback_ip_literals_match_with_any_port_and_nothing_else_does() {
        let v4 = RedirectUri::parse("http://127.0.0.1:9000/cb").unwrap();
        let v6 = RedirectUri::parse("http://[::1]/cb").unwrap();
        assert!(v4.matches_with_any_port("http://127.0.0.1:51234/cb"));
        assert!(v4.matches_with_any_port("http://127.0.0.1/cb"));
        assert!(v6.matches_with_any_port("http://[::1]:8080/cb"));
        for other in [
            "http://127.0.0.1:51234/cb/",
            "http://127.0.0.1:51234/cb?x=1",
            "http://127.0.0.2:51234/cb",
            "http://localhost:51234/cb",
            "https://127.0.0.1:51234/cb",
            "http://user@127.0.0.1:51234/cb",
            "http://127.0.0.1:51234/cb#f",
            "http://127.0.0.1:51234/x/../cb",
        ] {
            assert!(!v4.matches_with_any_port(other), "{other}");
        }
        let localhost = RedirectUri::parse("http://localhost:9000/cb").unwrap();
        assert!(!localhost.matches_with_any_port("http://localhost:9001/cb"), "localhost stays exact");
        assert!(localhost.is_localhost() && !v4.is_localhost());
        let https = RedirectUri::parse("https://app.example.com:8443/cb").unwrap();
        assert!(!https.matches_with_any_port("https://app.example.com:9443/cb"));
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
