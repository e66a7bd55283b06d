//! IPv4 addresses carried inside IPv6 ones.
//!
//! Several IPv6 forms are a way to reach an IPv4 host: a translator, a tunnel relay or the
//! kernel itself turns them into the IPv4 address they embed. A webhook to
//! `http://[64:ff9b::a9fe:a9fe]/` is a webhook to 169.254.169.254 wherever NAT64 runs, so the
//! SSRF policy judges the embedded address as if it had been written as IPv4.
//!
//! | form | prefix | where the IPv4 address sits |
//! |---|---|---|
//! | IPv4-mapped | `::ffff:0:0/96` | last 32 bits |
//! | IPv4-compatible (deprecated) | `::/96` | last 32 bits |
//! | SIIT IPv4-translated (RFC 6145) | `::ffff:0:0:0/96` | last 32 bits |
//! | NAT64 well-known (RFC 6052) | `64:ff9b::/96` | last 32 bits |
//! | NAT64 local-use (RFC 8215) | `64:ff9b:1::/48` | every RFC 6052 position a prefix inside the /48 may use (/96, /64, /56, /48): the translator's prefix length is not visible from here |
//! | 6to4 (RFC 3056) | `2002::/16` | bits 16–47 |
//! | Teredo (RFC 4380) | `2001::/32` | server: bits 32–63; client: last 32 bits, inverted |

use std::net::{Ipv4Addr, Ipv6Addr};

/// The IPv6 form an IPv4 address was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Mapped,
    Compatible,
    Translated,
    Nat64WellKnown,
    Nat64LocalUse,
    SixToFour,
    TeredoServer,
    TeredoClient,
}

/// Every IPv4 address `ip` embeds, with the form it was found in (none for a plain IPv6
/// address; two for Teredo; up to four for the NAT64 local-use prefix).
pub(crate) fn embedded_ipv4(ip: Ipv6Addr) -> Vec<(Form, Ipv4Addr)> {
    let b = ip.octets();
    let s = ip.segments();
    let at = |i: usize, j: usize, k: usize, l: usize| Ipv4Addr::new(b[i], b[j], b[k], b[l]);
    let last = at(12, 13, 14, 15);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => vec![(Form::Mapped, last)],
        // `::` and `::1` are IPv6's own unspecified and loopback addresses, judged as such.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => Vec::new(),
        [0, 0, 0, 0, 0, 0, _, _] => vec![(Form::Compatible, last)],
        [0, 0, 0, 0, 0xffff, 0, _, _] => vec![(Form::Translated, last)],
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => vec![(Form::Nat64WellKnown, last)],
        // RFC 6052 §2.2: bits 64–71 are the reserved "u" octet, skipped by every layout.
        // Longest prefix first: a /96 out of the /48 is the usual DNS64 deployment, so its
        // reading names the address in a refusal when several readings are refused.
        [0x64, 0xff9b, 1, ..] => vec![
            (Form::Nat64LocalUse, last),
            (Form::Nat64LocalUse, at(9, 10, 11, 12)),
            (Form::Nat64LocalUse, at(7, 9, 10, 11)),
            (Form::Nat64LocalUse, at(6, 7, 9, 10)),
        ],
        [0x2002, ..] => vec![(Form::SixToFour, at(2, 3, 4, 5))],
        [0x2001, 0, ..] => vec![
            (Form::TeredoServer, at(4, 5, 6, 7)),
            (Form::TeredoClient, Ipv4Addr::from(!u32::from(last))),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(ip: &str) -> Vec<(Form, Ipv4Addr)> {
        embedded_ipv4(ip.parse().unwrap())
    }

    fn v4(ip: &str) -> Ipv4Addr {
        ip.parse().unwrap()
    }

    #[test]
    fn each_form_yields_the_ipv4_address_it_carries() {
        assert_eq!(decoded("::ffff:10.1.2.3"), [(Form::Mapped, v4("10.1.2.3"))]);
        assert_eq!(decoded("::10.1.2.3"), [(Form::Compatible, v4("10.1.2.3"))]);
        assert_eq!(
            decoded("::ffff:0:7f00:1"),
            [(Form::Translated, v4("127.0.0.1"))]
        );
        assert_eq!(
            decoded("64:ff9b::a9fe:a9fe"),
            [(Form::Nat64WellKnown, v4("169.254.169.254"))]
        );
        assert_eq!(
            decoded("2002:c0a8:0101::1"),
            [(Form::SixToFour, v4("192.168.1.1"))]
        );
        // The address of the issue: server 65.54.227.120, client 127.0.0.1 (inverted bits).
        assert_eq!(
            decoded("2001:0:4136:e378:8000:63bf:80ff:fffe"),
            [
                (Form::TeredoServer, v4("65.54.227.120")),
                (Form::TeredoClient, v4("127.0.0.1")),
            ]
        );
    }

    #[test]
    fn the_local_use_nat64_prefix_is_read_at_every_rfc_6052_position() {
        // 10.1.2.3 placed as a /48, a /56, a /64 and a /96 prefix would place it.
        assert!(
            decoded("64:ff9b:1:0a01:0002:0300::").contains(&(Form::Nat64LocalUse, v4("10.1.2.3")))
        );
        assert!(
            decoded("64:ff9b:1:000a:0001:0203::").contains(&(Form::Nat64LocalUse, v4("10.1.2.3")))
        );
        assert!(
            decoded("64:ff9b:1:0:000a:0102:0300:0")
                .contains(&(Form::Nat64LocalUse, v4("10.1.2.3")))
        );
        assert!(
            decoded("64:ff9b:1::a9fe:a9fe").contains(&(Form::Nat64LocalUse, v4("169.254.169.254")))
        );
    }

    #[test]
    fn plain_ipv6_addresses_embed_nothing() {
        for ip in [
            "::",
            "::1",
            "2606:4700:4700::1111",
            "fe80::1",
            "2001:db8::1",
            "64:ff9b:2::1",
        ] {
            assert!(decoded(ip).is_empty(), "{ip}");
        }
    }
}
