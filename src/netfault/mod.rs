//! Network faults without `sch_netem`: nftables rules in the target's network namespace send the
//! selected packets to an NFQUEUE (with the bypass flag, so traffic flows normally the moment our
//! process is gone), and [`Engine`] decides each packet's fate in userspace. Revert deletes our table.
//!
//! Everything speaks netlink directly (no C library, no `nft` or `iptables` binary): [`nft`] writes
//! the nftables messages, [`engine`] the NFQUEUE ones, and [`netns`] finds and enters namespaces.
//! The per-packet decisions themselves are pure functions in [`crate::domain::packets`].

pub mod engine;
pub mod netns;
pub mod nft;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

pub use engine::{Engine, Stats};
pub use netns::NetNs;
pub use nft::{install, remove, tables};

/// What can go wrong while shaping a pod's traffic.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// No process on this node belongs to the pod.
    #[error("pod {0} has no process on this node (it is gone or runs elsewhere)")]
    PodNotFound(String),
    /// The pod UID is empty: "pod" is part of every pod's cgroup path, so it would match any pod.
    #[error("no pod UID given: an empty UID would match every pod on the node")]
    EmptyPodUid,
    /// The pod shares the node's network namespace.
    #[error(
        "pod {0} uses the node's network namespace (hostNetwork): a network fault would shape the node"
    )]
    HostNetwork(String),
    /// The path given to [`NetNs::open`] is not a network namespace.
    #[error("{0} is not a network namespace")]
    NotNetNs(String),
    /// A table of that name already exists: another injection of the same fault holds it.
    #[error("nftables table {0} already exists in the target's network namespace")]
    TableExists(String),
    /// The kernel refused a netlink request; the text names the message and the errno.
    #[error("netlink: {0}")]
    Netlink(String),
    /// A system call failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Which way the shaped packets travel, seen from the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Packets the target sends (the output hook).
    #[default]
    Egress,
    /// Packets the target receives (the input hook).
    Ingress,
    /// Both.
    Both,
}

impl Direction {
    /// Whether the output hook is shaped.
    pub fn egress(self) -> bool {
        matches!(self, Direction::Egress | Direction::Both)
    }

    /// Whether the input hook is shaped.
    pub fn ingress(self) -> bool {
        matches!(self, Direction::Ingress | Direction::Both)
    }
}

/// A transport protocol a [`Match`] can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
}

/// An address range: an IPv4 or IPv6 network with its prefix length. Host bits are cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not a [`Cidr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The address part does not parse.
    #[error("{0:?} is not an IP address")]
    Address(String),
    /// The prefix is not a number or is longer than the address.
    #[error("{0:?} is not a valid prefix length for this address")]
    Prefix(String),
}

impl Cidr {
    /// The network `addr/prefix`; host bits are cleared. Err if the prefix is too long.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, CidrError> {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(CidrError::Prefix(prefix.to_string()));
        }
        let masked = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::from((u32::from(a) & mask).to_be_bytes())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::from((u128::from(a) & mask).to_be_bytes())
            }
        };
        Ok(Cidr {
            addr: masked,
            prefix,
        })
    }

    /// The network address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network address as bytes (4 or 16).
    pub fn addr_bytes(&self) -> Vec<u8> {
        match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        }
    }

    /// The netmask as bytes (4 or 16).
    pub fn mask_bytes(&self) -> Vec<u8> {
        let len = self.addr_bytes().len();
        (0..len)
            .map(|i| {
                let bits = usize::from(self.prefix).saturating_sub(i * 8).min(8);
                (0xff_u16 << (8 - bits)) as u8
            })
            .collect()
    }

    /// Whether `ip` lies in this range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        Cidr::new(ip, self.prefix).is_ok_and(|c| c.addr == self.addr)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// Parses "10.0.0.0/8", "fd00::/64", or a plain address (a single host).
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| CidrError::Address(addr.to_string()))?;
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| CidrError::Prefix(p.to_string()))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which packets go to the queue. Empty vectors mean "any". Loopback traffic is never selected:
/// like netem on the pod's interface, a fault shapes the pod's network, not its localhost.
#[derive(Clone, Debug, Default)]
pub struct Match {
    /// Which hook(s) to shape.
    pub direction: Direction,
    /// Peer address ranges: the destination on egress, the source on ingress.
    pub cidrs: Vec<Cidr>,
    /// A packet matches if its source or destination port is listed (TCP and UDP only).
    pub ports: Vec<u16>,
    /// Transport protocols; empty means any, or TCP and UDP when `ports` is not empty.
    pub protocols: Vec<Protocol>,
}

/// What the engine does with each queued packet.
#[derive(Clone, Debug)]
pub enum Action {
    /// Hold each packet `latency` ± a uniform `jitter`, then accept it. Verdicts may be given out
    /// of order, as with netem.
    Delay {
        /// The mean delay.
        latency: Duration,
        /// The half-width of the uniform spread around `latency`.
        jitter: Duration,
    },
    /// Drop each packet independently with this probability (0.0..=1.0).
    Drop {
        /// The chance of dropping one packet.
        probability: f64,
    },
    /// Drop every packet: a partition.
    DropAll,
    /// Fail DNS queries (destination port 53) whose name matches `pattern` (any when `None`).
    /// A matching UDP query sent by the target is answered at once with RCODE=REFUSED when
    /// `refuse` is set (the queued packet is rewritten into the answer, which the kernel routes
    /// back to the asking socket); otherwise, and for TCP queries and queries seen on the input
    /// hook, it is dropped. Everything else is accepted.
    DnsError {
        /// Answer REFUSED instead of dropping.
        refuse: bool,
        /// A glob such as "*.example.com", matched case-insensitively, trailing dot ignored.
        pattern: Option<String>,
    },
}

/// nftables refuses names of 256 bytes or more (NFT_NAME_MAXLEN counts the NUL).
const MAX_TABLE_NAME: usize = 255;
const TABLE_PREFIX: &str = "faultline_";

/// Our table's name for a fault: "faultline_<namespace>_<result>_<fault>". Kubernetes names never
/// contain '_', so the separator keeps names apart; any other character outside [a-z0-9.-] becomes
/// '-'. A name too long for nftables is cut and ends with a hash of the whole, to stay unique.
pub fn table_name(namespace: &str, result: &str, fault: &str) -> String {
    let sanitise = |s: &str| -> String {
        s.chars()
            .map(|c| c.to_ascii_lowercase())
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let full = format!(
        "{TABLE_PREFIX}{}_{}_{}",
        sanitise(namespace),
        sanitise(result),
        sanitise(fault)
    );
    if full.len() <= MAX_TABLE_NAME {
        return full;
    }
    let hash = format!("{:016x}", fnv1a64(full.as_bytes()));
    let keep = MAX_TABLE_NAME - hash.len() - 1;
    format!("{}_{hash}", &full[..keep])
}

/// The queue number a table uses: derived from the table name, stable across builds, never 0.
pub fn queue_number(table: &str) -> u16 {
    let h = fnv1a64(table.as_bytes());
    let folded = (h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) as u16;
    if folded == 0 { 1 } else { folded }
}

/// Whether a table name is one of ours.
pub fn is_ours(table: &str) -> bool {
    table.starts_with(TABLE_PREFIX)
}

/// FNV-1a: a stable hash (std's hasher may change between releases).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parses_networks_and_hosts_and_clears_host_bits() {
        let c: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert_eq!(c.mask_bytes(), vec![255, 0, 0, 0]);
        assert!(c.contains("10.200.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        let h: Cidr = "10.99.0.2".parse().unwrap();
        assert_eq!(h.prefix(), 32);
        let v6: Cidr = "fd00:1::5/60".parse().unwrap();
        assert_eq!(v6.to_string(), "fd00:1::/60");
        assert_eq!(
            v6.mask_bytes()[..8],
            [255, 255, 255, 255, 255, 255, 255, 0xf0]
        );
        assert_eq!(
            "0.0.0.0/0".parse::<Cidr>().unwrap().mask_bytes(),
            vec![0; 4]
        );
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn table_names_name_the_fault_and_stay_within_the_limit() {
        assert_eq!(
            table_name("shop", "run-1", "net.delay"),
            "faultline_shop_run-1_net.delay"
        );
        assert_eq!(table_name("Shop", "a b", "x"), "faultline_shop_a-b_x");
        let long = "r".repeat(253);
        let a = table_name("ns", &long, "delay");
        let b = table_name("ns", &long, "loss");
        assert_eq!(a.len(), MAX_TABLE_NAME);
        assert_ne!(a, b);
        assert!(is_ours(&a));
    }

    #[test]
    fn queue_numbers_are_stable_and_never_zero() {
        let t = table_name("shop", "run-1", "delay");
        assert_eq!(queue_number(&t), queue_number(&t));
        assert_ne!(
            queue_number(&t),
            queue_number(&table_name("shop", "run-2", "delay"))
        );
        assert!((0..2000).all(|i| queue_number(&format!("faultline_{i}")) != 0));
    }
}
