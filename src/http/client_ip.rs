//! Who is on the other end: the TCP peer, or, behind a trusted reverse proxy, the address
//! the proxy says it forwarded for. Per-address rate limits and audit records depend on
//! it, so a header is believed only from a configured proxy, hop by hop.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;

use crate::config::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address for `request`, its `X-Forwarded-For` trusted as far as `trusted`
/// allows.
pub fn client_ip(request: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let forwarded = request.headers().get_all(X_FORWARDED_FOR).filter_map(|value| value.to_str().ok());
    Some(forwarded_client(peer, forwarded, trusted))
}

/// Walks `X-Forwarded-For` from the nearest hop back: each entry was written by the hop
/// after it, so it is believed only while that hop is a trusted proxy. The first address
/// not vouched for that way is the client. Anything unparsable ends the walk there.
fn forwarded_client<'a>(peer: IpAddr, headers: impl Iterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let entries: Vec<&str> = headers.flat_map(|header| header.split(',')).map(str::trim).collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        if !is_trusted(&client) {
            break;
        }
        match entry.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let client = forwarded_client(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &[]);
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["10.0.0.10/32"]);
        let client = forwarded_client(ip("10.0.0.10"), ["198.51.100.1"].into_iter(), &trusted);
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn entries_the_client_wrote_itself_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let client = forwarded_client(ip("10.0.0.10"), ["1.2.3.4, 198.51.100.1"].into_iter(), &trusted);
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_back_across_headers() {
        let trusted = nets(&["10.0.0.0/8", "192.0.2.5/32"]);
        let client = forwarded_client(ip("10.0.0.10"), ["1.2.3.4, 198.51.100.1", "192.0.2.5"].into_iter(), &trusted);
        assert_eq!(client, ip("198.51.100.1"));
    }

    #[test]
    fn garbage_stops_at_the_last_address_a_trusted_hop_vouched_for() {
        let trusted = nets(&["10.0.0.0/8"]);
        let client = forwarded_client(ip("10.0.0.10"), ["198.51.100.1, not-an-ip"].into_iter(), &trusted);
        assert_eq!(client, ip("10.0.0.10"));
        let ipv6 = forwarded_client(ip("10.0.0.10"), ["2001:db8::1"].into_iter(), &trusted);
        assert_eq!(ipv6, ip("2001:db8::1"));
    }
}
