//! Per-packet decisions for the network faults, with no socket: delay sampling, drop chances,
//! DNS query parsing, name patterns, and the REFUSED answer built from a queued query.

use std::time::Duration;

use rand::Rng;

/// How long to hold one packet: uniform in `latency ± jitter`, never below zero (so a jitter
/// larger than the latency skews the mean upwards, as netem's does).
pub fn sample_delay(latency: Duration, jitter: Duration, rng: &mut impl Rng) -> Duration {
    if jitter.is_zero() {
        return latency;
    }
    let lo = latency.saturating_sub(jitter).as_nanos();
    let hi = latency.saturating_add(jitter).as_nanos();
    let lo = u64::try_from(lo).unwrap_or(u64::MAX);
    let hi = u64::try_from(hi).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.random_range(lo..=hi))
}

/// Whether to drop one packet, independently, with `probability` (clamped to 0..=1; NaN never drops).
pub fn should_drop(probability: f64, rng: &mut impl Rng) -> bool {
    if probability.is_nan() || probability <= 0.0 {
        return false;
    }
    probability >= 1.0 || rng.random::<f64>() < probability
}

/// The transport a [`Segment`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// The transport view of an IP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// TCP or UDP.
    pub transport: Transport,
    /// The source port.
    pub src_port: u16,
    /// The destination port.
    pub dst_port: u16,
    /// The transport payload (as much of it as the packet holds).
    pub payload: &'a [u8],
}

/// The UDP or TCP segment in an IPv4 or IPv6 packet; None for other protocols, later fragments,
/// IPv6 extension headers, or a packet too short to hold the headers.
pub fn parse_segment(packet: &[u8]) -> Option<Segment<'_>> {
    let (proto, l4) = match packet.first()? >> 4 {
        4 => {
            let ihl = usize::from(packet[0] & 0x0f) * 4;
            let total = usize::from(be16(packet, 2)?).min(packet.len());
            let frag_offset = be16(packet, 6)? & 0x1fff;
            if ihl < 20 || total < ihl || frag_offset != 0 {
                return None;
            }
            (packet[9], &packet[ihl..total])
        }
        6 => {
            let total = (40 + usize::from(be16(packet, 4)?)).min(packet.len());
            (*packet.get(6)?, packet.get(40..total)?)
        }
        _ => return None,
    };
    let (transport, payload) = match proto {
        17 => {
            let len = usize::from(be16(l4, 4)?).clamp(8, l4.len().max(8));
            (Transport::Udp, l4.get(8..len.min(l4.len()))?)
        }
        6 => {
            let offset = usize::from(*l4.get(12)? >> 4) * 4;
            (Transport::Tcp, l4.get(offset.max(20)..)?)
        }
        _ => return None,
    };
    Some(Segment {
        transport,
        src_port: be16(l4, 0)?,
        dst_port: be16(l4, 2)?,
        payload,
    })
}

/// The first question of a DNS query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuery {
    /// The message ID.
    pub id: u16,
    /// The name asked for, lower-cased, without the trailing dot ("" for the root).
    pub name: String,
    /// The query type (1 = A, 28 = AAAA, ...).
    pub qtype: u16,
    /// The offset just past the first question (QNAME, QTYPE, QCLASS).
    pub question_end: usize,
}

/// A DNS message that is a standard query (QR=0, OPCODE=0) with at least one question.
pub fn parse_dns_query(msg: &[u8]) -> Option<DnsQuery> {
    let flags = be16(msg, 2)?;
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0x0f;
    if is_response || opcode != 0 || be16(msg, 4)? == 0 {
        return None;
    }
    let mut labels: Vec<String> = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*msg.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        // Compression pointers (0xc0) and the reserved label types never start a query's name.
        if len > 63 {
            return None;
        }
        let label = msg.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
        if at - 12 > 255 {
            return None;
        }
    }
    let qtype = be16(msg, at)?;
    be16(msg, at + 2)?;
    Some(DnsQuery {
        id: be16(msg, 0)?,
        name: labels.join("."),
        qtype,
        question_end: at + 4,
    })
}

/// Whether a DNS name matches a glob: `*` stands for any run of characters (dots included), `?`
/// for one; case-insensitive; a trailing dot on either side is ignored. "*.example.com" matches
/// "a.example.com" and "a.b.example.com" but not "example.com".
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let p = pattern
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .into_bytes();
    let n = name.trim_end_matches('.').to_ascii_lowercase().into_bytes();
    // Iterative glob with one backtrack point: linear for the usual single star.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// What the DNS fault does with one queued packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DnsVerdict {
    /// Not a matching query: let it through.
    Accept,
    /// A matching query: drop it.
    Drop,
    /// A matching UDP query: replace the packet with this REFUSED answer.
    Answer(Vec<u8>),
}

/// The DNS fault's decision for one IP packet. Only queries to port 53 whose name matches
/// `pattern` (any name when None) are touched. `can_answer` says whether a rewritten packet
/// would reach the asker (true on the output hook, where the kernel re-routes a mangled packet);
/// TCP queries are always dropped, since a TCP answer would need the connection's state.
pub fn dns_verdict(
    packet: &[u8],
    pattern: Option<&str>,
    refuse: bool,
    can_answer: bool,
) -> DnsVerdict {
    let Some(seg) = parse_segment(packet) else {
        return DnsVerdict::Accept;
    };
    if seg.dst_port != 53 {
        return DnsVerdict::Accept;
    }
    let query = match seg.transport {
        Transport::Udp => parse_dns_query(seg.payload),
        Transport::Tcp => tcp_dns_query(seg.payload),
    };
    let Some(query) = query else {
        return DnsVerdict::Accept;
    };
    if !pattern.is_none_or(|p| name_matches(p, &query.name)) {
        return DnsVerdict::Accept;
    }
    if refuse
        && can_answer
        && seg.transport == Transport::Udp
        && let Some(answer) = refused_answer(packet)
    {
        return DnsVerdict::Answer(answer);
    }
    DnsVerdict::Drop
}

/// The query in a TCP segment: after the two-byte length prefix, or at the start of a segment
/// that follows a separately sent prefix.
fn tcp_dns_query(payload: &[u8]) -> Option<DnsQuery> {
    let prefixed = be16(payload, 0).is_some_and(|len| usize::from(len) + 2 == payload.len());
    if prefixed {
        parse_dns_query(&payload[2..])
    } else {
        parse_dns_query(payload)
    }
}

/// The longest packet that can replace a queued one: the NFQUEUE verdict carries it in a netlink
/// attribute, whose u16 length counts its 4-byte header.
pub const MAX_ANSWER_LEN: usize = u16::MAX as usize - 4;

/// Rewrites an IPv4 or IPv6 packet holding a UDP DNS query into the answer REFUSED (RCODE 5)
/// from the queried server: addresses and ports swapped, QR=1, RA=1, the first question kept,
/// no records, IP and UDP checksums recomputed. An IPv4 answer gets a plain 20-byte header of
/// its own (no options, DF set, not a fragment); an IPv6 one the query's fixed header (a query
/// with extension headers is no query here, see [`parse_segment`]). None if the packet is not
/// such a query, or if the answer would be longer than [`MAX_ANSWER_LEN`] (the caller then drops
/// the query).
pub fn refused_answer(packet: &[u8]) -> Option<Vec<u8>> {
    let seg = parse_segment(packet)?;
    if seg.transport != Transport::Udp {
        return None;
    }
    let query = parse_dns_query(seg.payload)?;
    let mut dns = seg.payload[..query.question_end].to_vec();
    let rd = dns[2] & 0x01;
    dns[2] = 0x80 | rd; // QR=1, OPCODE=0 (a query was checked), AA=0, TC=0, RD copied
    dns[3] = 0x80 | 5; // RA=1, Z=0, AD=0, CD=0, RCODE=REFUSED
    dns[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    let udp_len = u16::try_from(8 + dns.len()).ok()?;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&seg.dst_port.to_be_bytes());
    udp.extend_from_slice(&seg.src_port.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&dns);
    let ip_header = if packet[0] >> 4 == 4 { 20 } else { 40 };
    if ip_header + udp.len() > MAX_ANSWER_LEN {
        return None;
    }
    match packet[0] >> 4 {
        4 => Some(ipv4_answer(packet, udp)),
        _ => Some(ipv6_answer(packet, udp)),
    }
}

/// A fresh IPv4 header (none of the query's options, fragment fields or TTL) over `udp`.
fn ipv4_answer(query: &[u8], mut udp: Vec<u8>) -> Vec<u8> {
    let (src, dst) = (&query[12..16], &query[16..20]);
    let total = (20 + udp.len()) as u16;
    let mut ip = Vec::with_capacity(usize::from(total));
    ip.extend_from_slice(&[0x45, query[1]]); // version 4, IHL 5; the query's DSCP/ECN
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&query[4..6]); // identification: any will do with DF
    ip.extend_from_slice(&[0x40, 0]); // DF, MF clear, fragment offset 0
    ip.extend_from_slice(&[64, 17, 0, 0]); // TTL, UDP, checksum (below)
    ip.extend_from_slice(dst);
    ip.extend_from_slice(src);
    let csum = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&csum.to_be_bytes());
    let pseudo = [dst, src, &[0, 17], &(udp.len() as u16).to_be_bytes()].concat();
    set_udp_checksum(&mut udp, &pseudo);
    ip.extend_from_slice(&udp);
    ip
}

fn ipv6_answer(query: &[u8], mut udp: Vec<u8>) -> Vec<u8> {
    let mut ip = query[..40].to_vec();
    let (src, dst) = (query[8..24].to_vec(), query[24..40].to_vec());
    ip[8..24].copy_from_slice(&dst);
    ip[24..40].copy_from_slice(&src);
    ip[4..6].copy_from_slice(&(udp.len() as u16).to_be_bytes());
    let len = (udp.len() as u32).to_be_bytes();
    let pseudo = [&dst[..], &src[..], &len[..], &[0, 0, 0, 17]].concat();
    set_udp_checksum(&mut udp, &pseudo);
    ip.extend_from_slice(&udp);
    ip
}

fn set_udp_checksum(udp: &mut [u8], pseudo: &[u8]) {
    udp[6..8].copy_from_slice(&[0, 0]);
    let csum = match checksum(&[pseudo, udp]) {
        0 => 0xffff, // 0 means "no checksum" in UDP
        c => c,
    };
    udp[6..8].copy_from_slice(&csum.to_be_bytes());
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts`, each of even length
/// except possibly the last.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for part in parts {
        let mut words = part.chunks_exact(2);
        for w in &mut words {
            sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            sum += u64::from(u16::from_be_bytes([*last, 0]));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A standard recursive query for `name` (type `qtype`, class IN): for probes and tests.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut msg = Vec::with_capacity(18 + name.len());
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        msg.push(label.len().min(63) as u8);
        msg.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    msg.push(0);
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&1u16.to_be_bytes());
    msg
}

fn be16(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.get(at)?, *buf.get(at + 1)?]))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    fn ipv4_udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
        let total = (20 + 8 + payload.len()) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst.octets());
        let csum = checksum(&[&ip]);
        ip[10..12].copy_from_slice(&csum.to_be_bytes());
        let mut udp = [
            &sport.to_be_bytes()[..],
            &dport.to_be_bytes(),
            &(8 + payload.len() as u16).to_be_bytes(),
            &[0, 0],
            payload,
        ]
        .concat();
        let pseudo = [
            &src.octets()[..],
            &dst.octets(),
            &[0, 17],
            &(udp.len() as u16).to_be_bytes(),
        ]
        .concat();
        set_udp_checksum(&mut udp, &pseudo);
        [ip, udp].concat()
    }

    fn ipv6_udp(src: Ipv6Addr, sport: u16, dst: Ipv6Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
        let len = (8 + payload.len()) as u16;
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 17, 64];
        ip[4..6].copy_from_slice(&len.to_be_bytes());
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst.octets());
        let udp = [
            &sport.to_be_bytes()[..],
            &dport.to_be_bytes(),
            &len.to_be_bytes(),
            &[0, 0],
            payload,
        ]
        .concat();
        [ip, udp].concat()
    }

    #[test]
    fn delay_without_jitter_is_exact_and_with_jitter_stays_in_range() {
        let mut rng = SmallRng::seed_from_u64(7);
        let ms = Duration::from_millis;
        assert_eq!(sample_delay(ms(100), Duration::ZERO, &mut rng), ms(100));
        let samples: Vec<_> = (0..2000)
            .map(|_| sample_delay(ms(100), ms(20), &mut rng))
            .collect();
        assert!(samples.iter().all(|d| (ms(80)..=ms(120)).contains(d)));
        let mean = samples.iter().sum::<Duration>() / 2000;
        assert!((ms(98)..=ms(102)).contains(&mean), "{mean:?}");
        assert!(samples.iter().any(|d| *d < ms(85)) && samples.iter().any(|d| *d > ms(115)));
        assert!((0..100).all(|_| sample_delay(ms(5), ms(10), &mut rng) <= ms(15)));
    }

    #[test]
    fn drop_decisions_follow_the_probability() {
        let mut rng = SmallRng::seed_from_u64(1);
        let drops = (0..10_000).filter(|_| should_drop(0.3, &mut rng)).count();
        assert!((2800..3200).contains(&drops), "{drops}");
        assert!((0..100).all(|_| should_drop(1.0, &mut rng)));
        assert!((0..100).all(|_| !should_drop(0.0, &mut rng)));
        assert!(!should_drop(f64::NAN, &mut rng));
        assert!(should_drop(7.0, &mut rng));
    }

    #[test]
    fn patterns_are_case_insensitive_globs_ignoring_the_trailing_dot() {
        assert!(name_matches("*.example.com", "blocked.example.com"));
        assert!(name_matches("*.example.com", "a.b.EXAMPLE.com."));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.example.com", "example.com.evil"));
        assert!(name_matches("example.com.", "Example.Com"));
        assert!(!name_matches("example.com", "www.example.com"));
        assert!(name_matches("db-?.svc", "db-1.svc"));
        assert!(name_matches("*", "anything.at.all"));
        assert!(name_matches("*api*", "my-api-server.ns.svc.cluster.local"));
        assert!(!name_matches("a*b*c", "aXbY"));
    }

    #[test]
    fn queries_parse_and_responses_and_other_opcodes_do_not() {
        let q = dns_query(0xbeef, "Blocked.Example.com.", 28);
        let parsed = parse_dns_query(&q).unwrap();
        assert_eq!(parsed.id, 0xbeef);
        assert_eq!(parsed.name, "blocked.example.com");
        assert_eq!(parsed.qtype, 28);
        assert_eq!(parsed.question_end, q.len());
        let mut response = q.clone();
        response[2] |= 0x80;
        assert_eq!(parse_dns_query(&response), None);
        let mut notify = q.clone();
        notify[2] = 4 << 3;
        assert_eq!(parse_dns_query(&notify), None);
        assert_eq!(parse_dns_query(&q[..q.len() - 1]), None);
        let mut pointer = q[..12].to_vec();
        pointer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        assert_eq!(parse_dns_query(&pointer), None);
    }

    #[test]
    fn refused_answer_swaps_ends_sets_the_flags_and_checksums() {
        let (client, server) = (Ipv4Addr::new(10, 99, 0, 1), Ipv4Addr::new(10, 99, 0, 2));
        let mut query = dns_query(42, "blocked.example.com", 1);
        query.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]); // an EDNS OPT record
        query[11] = 1; // ARCOUNT
        let packet = ipv4_udp(client, 40000, server, 53, &query);
        let answer = refused_answer(&packet).unwrap();
        assert_eq!(&answer[12..16], &server.octets());
        assert_eq!(&answer[16..20], &client.octets());
        assert_eq!(checksum(&[&answer[..20]]), 0, "IPv4 header checksum");
        assert_eq!(usize::from(be16(&answer, 2).unwrap()), answer.len());
        let seg = parse_segment(&answer).unwrap();
        assert_eq!((seg.src_port, seg.dst_port), (53, 40000));
        let dns = seg.payload;
        assert_eq!(be16(dns, 0), Some(42));
        assert_eq!(dns[2], 0x81, "QR and RD");
        assert_eq!(dns[3], 0x85, "RA and REFUSED");
        assert_eq!(&dns[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(dns.len(), parse_dns_query(&query).unwrap().question_end);
        let pseudo = [
            &server.octets()[..],
            &client.octets(),
            &[0, 17],
            &answer[24..26],
        ]
        .concat();
        assert_eq!(checksum(&[&pseudo, &answer[20..]]), 0, "UDP checksum");
    }

    #[test]
    fn refused_answer_has_a_plain_ipv4_header_whatever_the_query_carried() {
        let (client, server) = (Ipv4Addr::new(10, 99, 0, 1), Ipv4Addr::new(10, 99, 0, 2));
        let plain = ipv4_udp(client, 40000, server, 53, &dns_query(7, "x.example.com", 1));
        // The same query with a Router Alert option (IHL 6), MF set and TTL 1.
        let mut query = plain[..20].to_vec();
        query.extend_from_slice(&[0x94, 4, 0, 0]);
        query.extend_from_slice(&plain[20..]);
        query[0] = 0x46;
        let total = query.len() as u16;
        query[2..4].copy_from_slice(&total.to_be_bytes());
        query[6..8].copy_from_slice(&[0x20, 0]);
        query[8] = 1;
        query[10..12].copy_from_slice(&[0, 0]);
        let csum = checksum(&[&query[..24]]);
        query[10..12].copy_from_slice(&csum.to_be_bytes());
        for packet in [&plain, &query] {
            let answer = refused_answer(packet).unwrap();
            assert_eq!(answer[0], 0x45, "no options");
            assert_eq!(&answer[6..8], &[0x40, 0], "DF, not a fragment");
            assert_eq!((answer[8], answer[9]), (64, 17));
            assert_eq!(checksum(&[&answer[..20]]), 0, "IPv4 header checksum");
            assert_eq!(usize::from(be16(&answer, 2).unwrap()), answer.len());
            assert_eq!(&answer[12..16], &server.octets());
            assert_eq!(&answer[16..20], &client.octets());
            let seg = parse_segment(&answer).unwrap();
            assert_eq!((seg.src_port, seg.dst_port), (53, 40000));
            assert_eq!(usize::from(be16(&answer, 24).unwrap()), answer.len() - 20);
            let pseudo = [
                &server.octets()[..],
                &client.octets(),
                &[0, 17],
                &answer[24..26],
            ]
            .concat();
            assert_eq!(checksum(&[&pseudo, &answer[20..]]), 0, "UDP checksum");
            assert_eq!(seg.payload[3], 0x85);
        }
        assert_eq!(refused_answer(&query), refused_answer(&plain));
    }

    #[test]
    fn no_answer_is_ever_longer_than_a_verdict_can_carry() {
        // The longest name a query can hold (255 bytes) over IPv6, the larger header.
        let label = "a".repeat(63);
        let name = [&label[..], &label, &label, &label[..61]].join(".");
        let query = dns_query(1, &name, 1);
        assert_eq!(parse_dns_query(&query).unwrap().name, name);
        let (client, server): (Ipv6Addr, Ipv6Addr) =
            ("fd99::1".parse().unwrap(), "fd99::2".parse().unwrap());
        let answer = refused_answer(&ipv6_udp(client, 1, server, 53, &query)).unwrap();
        assert!(answer.len() <= MAX_ANSWER_LEN, "{}", answer.len());
        assert_eq!(MAX_ANSWER_LEN + 4, usize::from(u16::MAX));
    }

    #[test]
    fn refused_answer_works_for_ipv6() {
        let (client, server): (Ipv6Addr, Ipv6Addr) =
            ("fd99::1".parse().unwrap(), "fd99::2".parse().unwrap());
        let packet = ipv6_udp(client, 5353, server, 53, &dns_query(1, "x.example.com", 28));
        let answer = refused_answer(&packet).unwrap();
        assert_eq!(&answer[8..24], &server.octets());
        assert_eq!(&answer[24..40], &client.octets());
        assert_eq!(usize::from(be16(&answer, 4).unwrap()) + 40, answer.len());
        let len = (answer.len() as u32 - 40).to_be_bytes();
        let pseudo = [&server.octets()[..], &client.octets(), &len, &[0, 0, 0, 17]].concat();
        assert_eq!(checksum(&[&pseudo, &answer[40..]]), 0, "UDP checksum");
        assert_eq!(answer[40 + 8 + 3], 0x85);
    }

    #[test]
    fn dns_verdicts_touch_only_matching_queries_to_port_53() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let blocked = ipv4_udp(a, 1000, b, 53, &dns_query(1, "blocked.example.com", 1));
        let ok = ipv4_udp(a, 1000, b, 53, &dns_query(1, "ok.test", 1));
        let other_port = ipv4_udp(a, 1000, b, 5353, &dns_query(1, "blocked.example.com", 1));
        let pat = Some("*.example.com");
        assert!(matches!(
            dns_verdict(&blocked, pat, true, true),
            DnsVerdict::Answer(_)
        ));
        assert_eq!(dns_verdict(&blocked, pat, true, false), DnsVerdict::Drop);
        assert_eq!(dns_verdict(&blocked, pat, false, true), DnsVerdict::Drop);
        assert_eq!(dns_verdict(&ok, pat, true, true), DnsVerdict::Accept);
        assert!(matches!(
            dns_verdict(&ok, None, true, true),
            DnsVerdict::Answer(_)
        ));
        assert_eq!(
            dns_verdict(&other_port, pat, true, true),
            DnsVerdict::Accept
        );
        assert_eq!(
            dns_verdict(&[0x45, 0, 0], pat, true, true),
            DnsVerdict::Accept
        );
    }

    #[test]
    fn tcp_queries_are_dropped_and_handshakes_pass() {
        let tcp = |payload: &[u8]| {
            let mut p = vec![
                0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ];
            p.extend_from_slice(&[
                0x9c, 0x40, 0, 53, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x18, 0, 0, 0, 0, 0, 0,
            ]);
            p.extend_from_slice(payload);
            let total = p.len() as u16;
            p[2..4].copy_from_slice(&total.to_be_bytes());
            p
        };
        let q = dns_query(9, "blocked.example.com", 1);
        let framed = [&(q.len() as u16).to_be_bytes()[..], &q].concat();
        assert_eq!(
            dns_verdict(&tcp(&framed), Some("*.example.com"), true, true),
            DnsVerdict::Drop
        );
        assert_eq!(
            dns_verdict(&tcp(&q), Some("*.example.com"), true, true),
            DnsVerdict::Drop
        );
        assert_eq!(
            dns_verdict(&tcp(&[]), Some("*.example.com"), true, true),
            DnsVerdict::Accept
        );
        let ok = dns_query(9, "ok.test", 1);
        let framed_ok = [&(ok.len() as u16).to_be_bytes()[..], &ok].concat();
        assert_eq!(
            dns_verdict(&tcp(&framed_ok), Some("*.example.com"), true, true),
            DnsVerdict::Accept
        );
    }
}
