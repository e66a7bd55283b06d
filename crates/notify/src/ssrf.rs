//! The webhook SSRF guard: user-supplied URLs must not reach the operator's own network.
//!
//! A webhook URL is chosen by a user, but the POST is made from inside the deployment, so an
//! unguarded sender would let any user probe loopback services, the private network or the
//! cloud metadata endpoint (169.254.169.254). The policy:
//!
//! - only `http` and `https`;
//! - every address the host resolves to must be public: loopback, private (10/8, 172.16/12,
//!   192.168/16, fc00::/7), link-local (169.254/16, fe80::/10, which holds the metadata
//!   endpoints), shared CGNAT space (100.64/10), unspecified, multicast, broadcast, reserved and
//!   documentation ranges are refused, also when embedded in an IPv6 address (IPv4-mapped,
//!   IPv4-compatible, SIIT, NAT64 well-known and local-use, 6to4, Teredo; see [`embedded`]);
//!   one bad address refuses the host (an attacker may publish a public and a private record
//!   side by side);
//! - unless the operator's [`AllowList`] permits the address (a CIDR entry) or the host (a name
//!   entry).
//!
//! The check runs where the connection is made, not before it: the webhook client's DNS
//! resolver is `GuardedResolver`, so the address vetted is the address connected to and a DNS
//! answer that changes between a check and the connection (rebinding) has nothing to exploit.
//! IP literals never reach a resolver; `check_url` vets them before the request. Redirects are
//! not followed (a public URL could otherwise redirect to a private one) and proxies are not
//! used (the proxy, not the guard, would resolve the host).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use ipnet::IpNet;
use reqwest::Url;

mod embedded;

/// The operator's exceptions to the SSRF policy: networks (`10.0.0.0/8`, `192.168.1.20`) and
/// host names (`hooks.internal`) webhooks may reach although they are not public.
///
/// Written as a comma-separated list: `10.0.0.0/8,hooks.internal` (the proposed setting is
/// `STOCKD_WEBHOOK_ALLOW`). Empty by default: nothing private is reachable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    networks: Vec<IpNet>,
    /// Lower-case, without a trailing dot.
    hosts: Vec<String>,
}

impl AllowList {
    /// Permits every address of `network`.
    #[must_use]
    pub fn network(mut self, network: IpNet) -> Self {
        self.networks.push(network);
        self
    }

    /// Permits every address `host` resolves to (an exact name; no wildcards).
    #[must_use]
    pub fn host(mut self, host: &str) -> Self {
        self.hosts.push(normalize_host(host));
        self
    }

    /// Whether nothing is allowed beyond the public internet.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.hosts.is_empty()
    }

    fn permits_host(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.hosts.contains(&host)
    }

    fn permits_ip(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped address is the IPv4 host it maps to, so IPv4 entries cover it too.
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.networks
            .iter()
            .any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    }
}

/// An allow-list entry that is neither a network nor a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook allow-list: {0:?} is not an IP address, a CIDR network or a host name")]
pub struct AllowListParseError(String);

impl FromStr for AllowList {
    type Err = AllowListParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut list = Self::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(network) = entry.parse::<IpNet>() {
                list.networks.push(network);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                list.networks.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                list.hosts.push(normalize_host(entry));
            } else {
                return Err(AllowListParseError(entry.to_owned()));
            }
        }
        Ok(list)
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nets = self.networks.iter().map(ToString::to_string);
        let entries: Vec<String> = nets.chain(self.hosts.iter().cloned()).collect();
        f.write_str(&entries.join(","))
    }
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn is_host_name(entry: &str) -> bool {
    let entry = entry.trim_end_matches('.');
    !entry.is_empty()
        && entry.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A webhook destination the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not a URL at all.
    #[error("the webhook URL is not a valid URL")]
    Invalid,
    /// A scheme other than `http` / `https`.
    #[error("webhook URLs must be http or https, not {0}")]
    Scheme(String),
    /// No host to connect to.
    #[error("the webhook URL has no host")]
    NoHost,
    /// The host is, or resolves to, an address that is not public.
    #[error(
        "webhook host {host} resolves to {ip}, a {reason} address; stockd does not post to \
         non-public addresses unless the operator allow-lists them"
    )]
    Forbidden {
        /// The host as written in the URL.
        host: String,
        /// The refused address.
        ip: IpAddr,
        /// What kind of address it is (`loopback`, `private`, `cloud metadata`, …).
        reason: &'static str,
    },
    /// The host did not resolve (only from [`validate_webhook_url`]).
    #[error("webhook host {host} does not resolve: {detail}")]
    Unresolved {
        /// The host as written in the URL.
        host: String,
        /// The resolver's answer.
        detail: String,
    },
}

/// Checks a webhook URL when a user creates or changes a channel, so a refused destination is
/// a 422 at once rather than a failed delivery later: the scheme, and every address the host
/// resolves to, against the policy and the operator's `allow` list.
pub async fn validate_webhook_url(url: &str, allow: &AllowList) -> Result<Url, UrlRefused> {
    validate_with(url, allow, &SystemLookup).await
}

pub(crate) async fn validate_with(
    url: &str,
    allow: &AllowList,
    lookup: &dyn Lookup,
) -> Result<Url, UrlRefused> {
    let (url, host) = check_url(url, allow)?;
    if let Some(name) = host {
        let addrs = lookup
            .lookup(&name)
            .await
            .map_err(|err| UrlRefused::Unresolved {
                host: name.clone(),
                detail: err.to_string(),
            })?;
        vet_resolved(&name, &addrs, allow)?;
    }
    Ok(url)
}

/// The checks that need no DNS: the URL parses, its scheme is http(s), and an IP-literal host is
/// allowed. Returns the URL and, when the host is a name, that name (for the resolver to vet).
pub(crate) fn check_url(url: &str, allow: &AllowList) -> Result<(Url, Option<String>), UrlRefused> {
    let url = Url::parse(url).map_err(|_| UrlRefused::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme(url.scheme().to_owned()));
    }
    let ip = match url.host() {
        None => return Err(UrlRefused::NoHost),
        Some(url::Host::Domain(name)) => {
            let name = name.to_owned();
            return Ok((url, Some(name)));
        }
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    vet_ip(&ip.to_string(), ip, allow)?;
    Ok((url, None))
}

fn vet_resolved(host: &str, addrs: &[IpAddr], allow: &AllowList) -> Result<(), UrlRefused> {
    if allow.permits_host(host) {
        return Ok(());
    }
    addrs.iter().try_for_each(|&ip| vet_ip(host, ip, allow))
}

fn vet_ip(host: &str, ip: IpAddr, allow: &AllowList) -> Result<(), UrlRefused> {
    match forbidden_reason(ip) {
        Some(reason) if !allow.permits_ip(ip) && !allow.permits_host(host) => {
            Err(UrlRefused::Forbidden {
                host: host.to_owned(),
                ip,
                reason,
            })
        }
        _ => Ok(()),
    }
}

/// Why `ip` is not a public unicast address, or `None` when it is.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "cloud metadata",
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Addresses that embed an IPv4 address reach that address (through a translator, a
    // tunnel relay or the kernel): judge every address embedded, as if written as IPv4.
    let embedded = embedded::embedded_ipv4(ip);
    if let Some(reason) = embedded.iter().find_map(|&(_, v4)| forbidden_v4(v4)) {
        return Some(reason);
    }
    let segments = ip.segments();
    if embedded
        .first()
        .is_some_and(|(form, _)| *form == embedded::Form::Compatible)
    {
        return Some("IPv4-compatible (deprecated)");
    }
    if !embedded.is_empty() {
        return None;
    }
    Some(match segments[0] {
        0xfc00..=0xfdff => "private (unique local)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local (deprecated)",
        0xff00..=0xffff => "multicast",
        0x0100 if segments[1..4] == [0, 0, 0] => "discard-only",
        0x2001 if segments[1] == 0x0db8 => "documentation",
        _ => return None,
    })
}

/// Name resolution for webhook hosts; [`SystemLookup`] in production, a table in tests.
#[async_trait]
pub trait Lookup: Send + Sync + fmt::Debug {
    /// Every address `host` resolves to.
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

#[async_trait]
impl Lookup for SystemLookup {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        // Port 0: only the addresses matter; the connector puts the URL's port in.
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        Ok(addrs.map(|addr| addr.ip()).collect())
    }
}

/// The webhook client's DNS resolver: resolves, then vets every address before the connector
/// sees it, so the connection goes only to an address that passed the policy.
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) allow: AllowList,
    pub(crate) lookup: Arc<dyn Lookup>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let lookup = Arc::clone(&self.lookup);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = lookup.lookup(&host).await?;
            vet_resolved(&host, &ips, &allow)?;
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The refusal inside a failed request's error chain, if the guard caused the failure.
pub(crate) fn refusal_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a UrlRefused> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(refused) = err.downcast_ref::<UrlRefused>() {
            return Some(refused);
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> Option<&'static str> {
        forbidden_reason(ip.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for (ip, reason) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("0.0.0.0", "unspecified (0.0.0.0/8)"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique local)"),
            ("fd00:ec2::254", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "cloud metadata"),
            ("2002:c0a8:0101::1", "private"),
        ] {
            assert_eq!(refused(ip), Some(reason), "{ip}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    /// Refused IPv4 destinations written in every IPv6 form that embeds IPv4, with the reason
    /// the IPv4 address itself is refused for.
    const EMBEDDED_REFUSED: &[(&str, &str)] = &[
        // The three addresses of the report.
        ("64:ff9b:1::a9fe:a9fe", "cloud metadata"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
        ("::ffff:0:7f00:1", "loopback"),
        // IPv4-mapped and IPv4-compatible.
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:7f00:1", "loopback"),
        ("::10.0.0.1", "private"),
        // SIIT IPv4-translated.
        ("::ffff:0:a00:1", "private"),
        ("::ffff:0:a9fe:a9fe", "cloud metadata"),
        // NAT64 well-known /96.
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::c0a8:101", "private"),
        // NAT64 local-use /48, at the /48, /56, /64 and /96 positions (the others public).
        ("64:ff9b:1:a01:2:308:808:808", "private"),
        ("64:ff9b:1:87f:1:101:808:808", "loopback"),
        ("64:ff9b:1:808:a:102:308:808", "private"),
        ("64:ff9b:1:808:8:808:a9fe:a9fe", "cloud metadata"),
        // 6to4.
        ("2002:a9fe:a9fe::1", "cloud metadata"),
        ("2002:7f00:1::", "loopback"),
        // Teredo: a private server, or a client whose inverted bits are private.
        ("2001:0:a00:1::", "private"),
        ("2001:0:4136:e378:8000:63bf:5601:5601", "cloud metadata"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),
    ];

    #[test]
    fn every_ipv6_form_embedding_a_refused_ipv4_address_is_refused() {
        for (ip, reason) in EMBEDDED_REFUSED {
            assert_eq!(refused(ip), Some(*reason), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_embedding_public_ipv4_addresses_pass() {
        for ip in [
            "::ffff:0:808:808",
            "64:ff9b::808:808",
            "64:ff9b:1:808:8:808:808:808",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }

    #[test]
    fn embedded_refused_addresses_are_refused_as_url_literals_and_as_resolved_addresses() {
        let none = AllowList::default();
        for (ip, reason) in EMBEDDED_REFUSED {
            let url = format!("http://[{ip}]/hook");
            match check_url(&url, &none) {
                Err(UrlRefused::Forbidden { reason: got, .. }) => assert_eq!(got, *reason, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
            // What a resolver (the guarded one at connect time) would hand over for a name.
            let resolved = [ip.parse().unwrap()];
            match vet_resolved("hooks.example.com", &resolved, &none) {
                Err(UrlRefused::Forbidden { reason: got, .. }) => assert_eq!(got, *reason, "{ip}"),
                other => panic!("{ip}: {other:?}"),
            }
        }
        // The operator's allow-list still decides: allow-listing the prefix admits it.
        let allow: AllowList = "64:ff9b:1::/48".parse().unwrap();
        assert!(check_url("http://[64:ff9b:1::a9fe:a9fe]/", &allow).is_ok());
    }

    #[test]
    fn allow_list_parses_networks_addresses_and_hosts() {
        let allow: AllowList = " 10.0.0.0/8, 127.0.0.1 ,Hooks.Internal., fd00::/8"
            .parse()
            .unwrap();
        assert!(allow.permits_ip("10.9.8.7".parse().unwrap()));
        assert!(allow.permits_ip("127.0.0.1".parse().unwrap()));
        assert!(allow.permits_ip("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!allow.permits_ip("127.0.0.2".parse().unwrap()));
        assert!(allow.permits_ip("fd12::1".parse().unwrap()));
        assert!(allow.permits_host("hooks.internal"));
        assert!(!allow.permits_host("evil.hooks.internal"));
        assert_eq!(
            allow.to_string(),
            "10.0.0.0/8,127.0.0.1/32,fd00::/8,hooks.internal"
        );
        assert!("".parse::<AllowList>().unwrap().is_empty());
        assert!("10.0.0.0/33".parse::<AllowList>().is_err());
        assert!("http://x".parse::<AllowList>().is_err());
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        let none = AllowList::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f.1/",
        ] {
            assert!(
                matches!(check_url(url, &none), Err(UrlRefused::Forbidden { .. })),
                "{url}"
            );
        }
        assert_eq!(
            check_url("ftp://example.com/", &none).unwrap_err(),
            UrlRefused::Scheme("ftp".into())
        );
        assert_eq!(
            check_url("file:///etc/passwd", &none).unwrap_err(),
            UrlRefused::Scheme("file".into())
        );
        assert_eq!(
            check_url("not a url", &none).unwrap_err(),
            UrlRefused::Invalid
        );
        let (_, host) = check_url("https://hooks.example.com/x", &none).unwrap();
        assert_eq!(host.as_deref(), Some("hooks.example.com"));
        let allow: AllowList = "127.0.0.0/8".parse().unwrap();
        assert!(check_url("http://127.0.0.1:9/", &allow).is_ok());
    }
}
