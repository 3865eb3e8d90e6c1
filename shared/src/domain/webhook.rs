//! Webhooks: what an organizer may subscribe to, and where deliveries may go.
//!
//! A webhook's target is chosen by whoever creates it, and the dispatch function then makes
//! requests to it from inside the deployment's network: left unchecked, that is a server-side
//! request forgery (SSRF) hole onto the instance metadata service, loopback and private ranges.
//! So on AWS ([`TargetPolicy::PublicHttps`]) a target must be `https://` and may not name a
//! private, loopback or link-local address; a name is resolved on every delivery and each address
//! it resolves to is checked the same way with [`is_public`] (a name's addresses can change after
//! the webhook was created). Locally ([`TargetPolicy::Any`]) the tests' receiver on 127.0.0.1 is
//! allowed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What happened, as a webhook's `type` names it (Standard Webhooks' dotted event types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum WebhookEvent {
    #[serde(rename = "registration.created")]
    RegistrationCreated,
    #[serde(rename = "registration.cancelled")]
    RegistrationCancelled,
    #[serde(rename = "registration.promoted")]
    RegistrationPromoted,
    #[serde(rename = "event.changed")]
    EventChanged,
    #[serde(rename = "event.cancelled")]
    EventCancelled,
    #[serde(rename = "feedback.posted")]
    FeedbackPosted,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 6] = [
        WebhookEvent::RegistrationCreated,
        WebhookEvent::RegistrationCancelled,
        WebhookEvent::RegistrationPromoted,
        WebhookEvent::EventChanged,
        WebhookEvent::EventCancelled,
        WebhookEvent::FeedbackPosted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::RegistrationCreated => "registration.created",
            WebhookEvent::RegistrationCancelled => "registration.cancelled",
            WebhookEvent::RegistrationPromoted => "registration.promoted",
            WebhookEvent::EventChanged => "event.changed",
            WebhookEvent::EventCancelled => "event.cancelled",
            WebhookEvent::FeedbackPosted => "feedback.posted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// The event types of a subscription: at least one, each once, in the order of
/// [`WebhookEvent::ALL`].
pub fn parse_event_list(raw: &[String]) -> Result<Vec<WebhookEvent>, String> {
    if raw.is_empty() {
        return Err("must name at least one event type".to_owned());
    }
    let mut kinds = Vec::with_capacity(raw.len());
    for name in raw {
        match WebhookEvent::parse(name) {
            Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
            Some(_) => return Err(format!("names \"{name}\" twice")),
            None => {
                let known: Vec<_> = WebhookEvent::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!("\"{name}\" is not an event type (one of {})", known.join(", ")));
            }
        }
    }
    kinds.sort_by_key(|kind| WebhookEvent::ALL.iter().position(|k| k == kind));
    Ok(kinds)
}

pub use crate::config::TargetPolicy;

impl TargetPolicy {
    /// Whether a delivery may connect to `address`.
    pub fn allows(self, address: IpAddr) -> bool {
        self == TargetPolicy::Any || is_public(address)
    }
}

/// A webhook target, checked against a [`TargetPolicy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str, policy: TargetPolicy) -> Result<Self, String> {
        if raw.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} bytes", Self::MAX_LEN));
        }
        let url = url::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL".to_owned())?;
        match (url.scheme(), policy) {
            ("https", _) | ("http", TargetPolicy::Any) => {}
            ("http", TargetPolicy::PublicHttps) => return Err("must be an https:// URL".to_owned()),
            _ => return Err("must be an absolute http(s) URL".to_owned()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".to_owned());
        }
        if url.fragment().is_some() {
            return Err("must not have a #fragment".to_owned());
        }
        if policy == TargetPolicy::PublicHttps {
            match url.host() {
                Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => {
                    return Err("must not be a private, loopback or link-local address".to_owned());
                }
                Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => {
                    return Err("must not be a private, loopback or link-local address".to_owned());
                }
                Some(url::Host::Domain(name)) if is_local_name(name) => {
                    return Err("must name a public host".to_owned());
                }
                None => return Err("must name a host".to_owned()),
                _ => {}
            }
        }
        Ok(WebhookUrl(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Names that never lead to a public host (RFC 6761 `localhost`, and single labels, which a
/// resolver completes with its own search domains).
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || !name.contains('.')
}

/// Whether `address` is on the public internet: not loopback, private (RFC 1918, unique local),
/// link-local (the instance metadata service among them), shared (carrier-grade NAT),
/// unspecified, broadcast, multicast, documentation or reserved; an IPv4 address written as IPv6
/// (mapped, compatible, NAT64) is judged as the IPv4 address it carries.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 169 && b == 254) // link-local, the metadata service
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let reserved = ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] & 0xff00) == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only
        || (segments[0] == 0x0064 && segments[1] == 0xff9b && segments[2] == 1) // local-use NAT64
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo, which carries an IPv4 address
        || segments[0] == 0x2002; // 6to4, which carries an IPv4 address of its own
    !reserved
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
/// (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) or the well-known NAT64 prefix
/// (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = (s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff)
        || (s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0);
    let compatible = s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
    (mapped || compatible || nat64).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: &str) -> bool {
        is_public(raw.parse().unwrap())
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.10",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "2002:7f00:1::",
            "::ffff:0:7f00:1",
            "64:ff9b:1::a00:1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!public(private), "{private} is not public");
        }
        for open in ["93.184.215.14", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(public(open), "{open} is public");
        }
    }

    #[test]
    fn on_aws_a_target_is_https_to_a_public_host() {
        let policy = TargetPolicy::PublicHttps;
        assert!(WebhookUrl::parse("https://hooks.example.com/in?x=1", policy).is_ok());
        assert!(WebhookUrl::parse("https://93.184.215.14:8443/in", policy).is_ok());
        for refused in [
            "http://hooks.example.com/in",
            "ftp://hooks.example.com/in",
            "https://127.0.0.1/in",
            "https://[::1]/in",
            "https://[::ffff:10.0.0.1]/in",
            "https://169.254.169.254/latest/meta-data",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://localhost/in",
            "https://api.localhost/in",
            "https://intranet/in",
            "https://user:pass@hooks.example.com/in",
            "https://hooks.example.com/in#part",
            "/relative",
            "not a url",
        ] {
            assert!(WebhookUrl::parse(refused, policy).is_err(), "{refused} is refused");
        }
    }

    #[test]
    fn locally_the_tests_receiver_on_loopback_is_allowed() {
        assert!(WebhookUrl::parse("http://127.0.0.1:4000/hook", TargetPolicy::Any).is_ok());
        assert!(TargetPolicy::Any.allows("127.0.0.1".parse().unwrap()));
        assert!(!TargetPolicy::PublicHttps.allows("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn event_lists_name_known_types_once() {
        let list =
            |names: &[&str]| parse_event_list(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            list(&["feedback.posted", "registration.created"]).unwrap(),
            vec![WebhookEvent::RegistrationCreated, WebhookEvent::FeedbackPosted]
        );
        assert!(list(&[]).is_err());
        assert!(list(&["registration.created", "registration.created"]).is_err());
        assert!(list(&["registration.deleted"]).is_err());
    }
}
