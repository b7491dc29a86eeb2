//! nftables over netlink, written by hand: one table per fault, whose base chains send the
//! selected packets to an NFQUEUE with the bypass flag. Also the small netlink toolkit (socket,
//! message writer, message and attribute readers) that the NFQUEUE engine shares.
//!
//! Layout of a table (family inet):
//! ```text
//! chain egress  { type filter hook output priority 10;
//!                 ip daddr 127.0.0.0/8 accept; ip6 daddr ::1 accept; oiftype loopback accept;
//!                 <peer> [jump egress_l4 | <l4> queue] }
//! chain ingress { type filter hook input  priority 10;
//!                 ip saddr 127.0.0.0/8 accept; ip6 saddr ::1 accept; iiftype loopback accept; ... }
//! ```
//! The rules use the native `queue` expression. Kernels without it (CONFIG_NFT_QUEUE unset, as
//! on the development machine) refuse the rule with ENOENT; the whole batch is then sent again
//! with the xtables NFQUEUE target (revision 3, through nft_compat) in its place, which `nft`
//! lists the same way: `queue num N bypass`.
//!
//! Priority 10 runs after the filter chains at 0 (we hold only packets the pod's own firewall
//! lets through) and, on output, after NAT at -100, so a sidecar's REDIRECT (Istio's, say) has
//! already rewritten the destination to 127.0.0.1 or ::1. The interface does not tell: on the
//! output hook `meta oif` stays the device routed before NAT (eth0), which is why the chains
//! skip loopback addresses first; only the proxy's real upstream packet is then shaped (once).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{Cidr, Match, NetError, NetNs, Protocol, is_ours};

/// Kernel constants (from linux/netlink.h, linux/netfilter/nfnetlink.h, nf_tables.h,
/// nfnetlink_queue.h and xt_NFQUEUE.h).
pub(crate) mod sys {
    pub const NLM_F_REQUEST: u16 = 0x1;
    pub const NLM_F_ACK: u16 = 0x4;
    pub const NLM_F_DUMP_INTR: u16 = 0x10;
    pub const NLM_F_DUMP: u16 = 0x300;
    pub const NLM_F_EXCL: u16 = 0x200;
    pub const NLM_F_CREATE: u16 = 0x400;
    pub const NLM_F_APPEND: u16 = 0x800;
    pub const NLMSG_ERROR: u16 = 2;
    pub const NLMSG_DONE: u16 = 3;
    pub const NLA_F_NESTED: u16 = 0x8000;

    pub const NFNL_SUBSYS_QUEUE: u16 = 3;
    pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
    pub const NFNL_MSG_BATCH_BEGIN: u16 = 16;
    pub const NFNL_MSG_BATCH_END: u16 = 17;

    pub const NFPROTO_UNSPEC: u8 = 0;
    pub const NFPROTO_INET: u8 = 1;
    pub const NFPROTO_IPV4: u8 = 2;
    pub const NFPROTO_IPV6: u8 = 10;
    pub const NF_INET_LOCAL_IN: u32 = 1;
    pub const NF_INET_LOCAL_OUT: u32 = 3;
    pub const NF_DROP: u32 = 0;
    pub const NF_ACCEPT: u32 = 1;

    pub const NFT_MSG_NEWTABLE: u16 = 0;
    pub const NFT_MSG_GETTABLE: u16 = 1;
    pub const NFT_MSG_DELTABLE: u16 = 2;
    pub const NFT_MSG_NEWCHAIN: u16 = 3;
    pub const NFT_MSG_NEWRULE: u16 = 6;
    pub const NFTA_TABLE_NAME: u16 = 1;
    pub const NFTA_TABLE_FLAGS: u16 = 2;
    pub const NFTA_TABLE_USERDATA: u16 = 6;
    pub const NFTA_CHAIN_TABLE: u16 = 1;
    pub const NFTA_CHAIN_NAME: u16 = 3;
    pub const NFTA_CHAIN_HOOK: u16 = 4;
    pub const NFTA_CHAIN_POLICY: u16 = 5;
    pub const NFTA_CHAIN_TYPE: u16 = 7;
    pub const NFTA_HOOK_HOOKNUM: u16 = 1;
    pub const NFTA_HOOK_PRIORITY: u16 = 2;
    pub const NFTA_RULE_TABLE: u16 = 1;
    pub const NFTA_RULE_CHAIN: u16 = 2;
    pub const NFTA_RULE_EXPRESSIONS: u16 = 4;
    pub const NFTA_LIST_ELEM: u16 = 1;
    pub const NFTA_EXPR_NAME: u16 = 1;
    pub const NFTA_EXPR_DATA: u16 = 2;
    pub const NFTA_DATA_VALUE: u16 = 1;
    pub const NFTA_DATA_VERDICT: u16 = 2;
    pub const NFTA_VERDICT_CODE: u16 = 1;
    pub const NFTA_VERDICT_CHAIN: u16 = 2;
    pub const NFTA_IMMEDIATE_DREG: u16 = 1;
    pub const NFTA_IMMEDIATE_DATA: u16 = 2;
    pub const NFTA_CMP_SREG: u16 = 1;
    pub const NFTA_CMP_OP: u16 = 2;
    pub const NFTA_CMP_DATA: u16 = 3;
    pub const NFTA_META_DREG: u16 = 1;
    pub const NFTA_META_KEY: u16 = 2;
    pub const NFTA_PAYLOAD_DREG: u16 = 1;
    pub const NFTA_PAYLOAD_BASE: u16 = 2;
    pub const NFTA_PAYLOAD_OFFSET: u16 = 3;
    pub const NFTA_PAYLOAD_LEN: u16 = 4;
    pub const NFTA_BITWISE_SREG: u16 = 1;
    pub const NFTA_BITWISE_DREG: u16 = 2;
    pub const NFTA_BITWISE_LEN: u16 = 3;
    pub const NFTA_BITWISE_MASK: u16 = 4;
    pub const NFTA_BITWISE_XOR: u16 = 5;
    pub const NFTA_QUEUE_NUM: u16 = 1;
    pub const NFTA_QUEUE_TOTAL: u16 = 2;
    pub const NFTA_QUEUE_FLAGS: u16 = 3;
    pub const NFTA_TARGET_NAME: u16 = 1;
    pub const NFTA_TARGET_REV: u16 = 2;
    pub const NFTA_TARGET_INFO: u16 = 3;
    pub const NFT_REG_VERDICT: u32 = 0;
    pub const NFT_REG_1: u32 = 1;
    pub const NFT_CMP_EQ: u32 = 0;
    pub const NFT_JUMP: i32 = -3;
    pub const NFT_META_IIFTYPE: u32 = 8;
    pub const NFT_META_OIFTYPE: u32 = 9;
    pub const NFT_META_NFPROTO: u32 = 15;
    pub const NFT_META_L4PROTO: u32 = 16;
    pub const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
    pub const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
    pub const NFT_QUEUE_FLAG_BYPASS: u16 = 0x1;
    pub const ARPHRD_LOOPBACK: u16 = 772;
    pub const NFTNL_UDATA_TABLE_COMMENT: u8 = 0;

    pub const NFQNL_MSG_PACKET: u16 = 0;
    pub const NFQNL_MSG_VERDICT: u16 = 1;
    pub const NFQNL_MSG_CONFIG: u16 = 2;
    pub const NFQA_PACKET_HDR: u16 = 1;
    pub const NFQA_VERDICT_HDR: u16 = 2;
    pub const NFQA_PAYLOAD: u16 = 10;
    pub const NFQA_CAP_LEN: u16 = 13;
    pub const NFQA_CFG_CMD: u16 = 1;
    pub const NFQA_CFG_PARAMS: u16 = 2;
    pub const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
    pub const NFQA_CFG_MASK: u16 = 4;
    pub const NFQA_CFG_FLAGS: u16 = 5;
    pub const NFQNL_CFG_CMD_BIND: u8 = 1;
    pub const NFQNL_COPY_META: u8 = 1;
    pub const NFQNL_COPY_PACKET: u8 = 2;
    pub const NFQA_CFG_F_FAIL_OPEN: u32 = 0x1;
    pub const NFQA_CFG_F_GSO: u32 = 0x4;
}

use sys::*;

/// A netfilter netlink socket, bound to the network namespace of the thread that opened it.
#[derive(Debug)]
pub(crate) struct NlSocket {
    fd: OwnedFd,
}

impl NlSocket {
    /// Opens and binds a NETLINK_NETFILTER socket (the kernel picks the port id).
    pub(crate) fn open() -> io::Result<NlSocket> {
        let flags = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
        // SAFETY: plain syscalls; the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, flags, libc::NETLINK_NETFILTER) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let sock = NlSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        };
        let addr = kernel_addr();
        let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        if unsafe { libc::bind(fd, (&raw const addr).cast(), len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // Acks without a copy of the request: the rule batches can be large.
        sock.set_opt(libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, 1)?;
        Ok(sock)
    }

    /// Sets an integer socket option.
    pub(crate) fn set_opt(&self, level: i32, name: i32, value: i32) -> io::Result<()> {
        let len = size_of::<i32>() as libc::socklen_t;
        let ptr = (&raw const value).cast();
        if unsafe { libc::setsockopt(self.fd.as_raw_fd(), level, name, ptr, len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Makes blocking receives give up with WouldBlock after `timeout`.
    pub(crate) fn set_recv_timeout(&self, timeout: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
        };
        let len = size_of::<libc::timeval>() as libc::socklen_t;
        let (fd, ptr) = (self.fd.as_raw_fd(), (&raw const tv).cast());
        if unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, ptr, len) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends one datagram (one or more netlink messages) to the kernel.
    pub(crate) fn send(&self, buf: &[u8]) -> io::Result<()> {
        let addr = kernel_addr();
        let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        loop {
            let (ptr, fd) = (buf.as_ptr().cast(), self.fd.as_raw_fd());
            let sent =
                unsafe { libc::sendto(fd, ptr, buf.len(), 0, (&raw const addr).cast(), len) };
            if sent >= 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Receives one datagram; Err(WouldBlock) when `nonblocking` and nothing is waiting.
    pub(crate) fn recv(&self, buf: &mut [u8], nonblocking: bool) -> io::Result<usize> {
        let flags = if nonblocking { libc::MSG_DONTWAIT } else { 0 } | libc::MSG_TRUNC;
        loop {
            let (ptr, fd) = (buf.as_mut_ptr().cast(), self.fd.as_raw_fd());
            let n = unsafe { libc::recv(fd, ptr, buf.len(), flags) };
            if n >= 0 {
                let n = n as usize;
                if n > buf.len() {
                    return Err(io::Error::other(format!(
                        "netlink message of {n} bytes truncated"
                    )));
                }
                return Ok(n);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
impl NlSocket {
    /// Wraps any descriptor, for tests of what happens when the socket fails.
    pub(crate) fn from_fd(fd: OwnedFd) -> NlSocket {
        NlSocket { fd }
    }
}

impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn kernel_addr() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; all zero is "the kernel, no groups".
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr
}

/// The most data one netlink attribute can hold: its length is a u16 that counts its 4-byte
/// header.
pub(crate) const MAX_ATTR_DATA: usize = u16::MAX as usize - 4;

/// Writes netfilter netlink messages (header, nfgenmsg, attributes) one after another.
#[derive(Debug, Default)]
pub(crate) struct MsgWriter {
    buf: Vec<u8>,
    start: usize,
    nests: Vec<usize>,
}

impl MsgWriter {
    /// Starts a message: nlmsghdr and nfgenmsg (res_id is written big-endian).
    pub(crate) fn begin(&mut self, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) {
        self.start = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&[family, 0]);
        self.buf.extend_from_slice(&res_id.to_be_bytes());
    }

    /// Ends the current message by writing its length.
    pub(crate) fn finish(&mut self) {
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }

    /// Appends an attribute, padded to 4 bytes. Its length field is a u16 that counts the
    /// 4-byte header: callers keep `data` within [`MAX_ATTR_DATA`] (a longer one would corrupt
    /// every message after it, so it panics instead).
    pub(crate) fn attr(&mut self, ty: u16, data: &[u8]) {
        assert!(
            data.len() <= MAX_ATTR_DATA,
            "a netlink attribute of {} bytes does not fit its u16 length",
            data.len()
        );
        self.buf
            .extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
    }

    /// A NUL-terminated string attribute.
    pub(crate) fn attr_str(&mut self, ty: u16, s: &str) {
        self.attr(ty, &[s.as_bytes(), &[0]].concat());
    }

    /// A big-endian u32 attribute.
    pub(crate) fn attr_be32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_be_bytes());
    }

    /// A big-endian u16 attribute.
    pub(crate) fn attr_be16(&mut self, ty: u16, v: u16) {
        self.attr(ty, &v.to_be_bytes());
    }

    /// Opens a nested attribute; close it with [`MsgWriter::end_nest`].
    pub(crate) fn nest(&mut self, ty: u16) {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
    }

    /// Closes the innermost nested attribute.
    pub(crate) fn end_nest(&mut self) {
        if let Some(at) = self.nests.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// The messages written so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the messages written so far.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.nests.clear();
    }
}

/// One netlink message read from a datagram.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NlMsg<'a> {
    pub ty: u16,
    pub flags: u16,
    /// Everything after the 16-byte nlmsghdr.
    pub body: &'a [u8],
}

impl<'a> NlMsg<'a> {
    /// For an NLMSG_ERROR message: the sequence number it answers and the errno (0 is an ack).
    pub(crate) fn ack(&self) -> Option<(u32, i32)> {
        if self.ty != NLMSG_ERROR {
            return None;
        }
        let error = i32::from_ne_bytes(self.body.get(0..4)?.try_into().ok()?);
        let seq = u32::from_ne_bytes(self.body.get(12..16)?.try_into().ok()?);
        Some((seq, -error))
    }

    /// The attributes after the 4-byte nfgenmsg.
    pub(crate) fn attrs(&self) -> impl Iterator<Item = (u16, &'a [u8])> + use<'a> {
        attrs(self.body.get(4..).unwrap_or_default())
    }
}

/// The messages in a received datagram.
pub(crate) fn messages(mut buf: &[u8]) -> impl Iterator<Item = NlMsg<'_>> {
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
        if len < 16 || len > buf.len() {
            return None;
        }
        let msg = NlMsg {
            ty: u16::from_ne_bytes(buf[4..6].try_into().ok()?),
            flags: u16::from_ne_bytes(buf[6..8].try_into().ok()?),
            body: &buf[16..len],
        };
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(msg)
    })
}

/// The attributes in a buffer: (type without flag bits, payload).
pub(crate) fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16::from_ne_bytes(buf.get(0..2)?.try_into().ok()?));
        let ty = u16::from_ne_bytes(buf.get(2..4)?.try_into().ok()?) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let payload = &buf[4..len];
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some((ty, payload))
    })
}

/// The nftables chain priority of our base chains (see the module docs).
const CHAIN_PRIORITY: i32 = 10;
const TABLE_COMMENT: &str = "faultline network fault: delete this table to revert";

/// How the rules reach the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    /// The native `queue` expression (nft_queue).
    Native,
    /// The xtables NFQUEUE target through nft_compat.
    Compat,
}

/// One nftables expression, with everything loaded into register 1.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expr {
    Meta(u32),
    Cmp(Vec<u8>),
    Payload { base: u32, offset: u32, len: u32 },
    Bitwise(Vec<u8>),
    Queue(u16),
    XtNfqueue(u16),
    Accept,
    Jump(String),
}

impl Expr {
    fn encode(&self, w: &mut MsgWriter) {
        w.nest(NFTA_LIST_ELEM);
        w.attr_str(NFTA_EXPR_NAME, self.kind());
        w.nest(NFTA_EXPR_DATA);
        match self {
            Expr::Meta(key) => {
                w.attr_be32(NFTA_META_KEY, *key);
                w.attr_be32(NFTA_META_DREG, NFT_REG_1);
            }
            Expr::Cmp(data) => {
                w.attr_be32(NFTA_CMP_SREG, NFT_REG_1);
                w.attr_be32(NFTA_CMP_OP, NFT_CMP_EQ);
                data_value(w, NFTA_CMP_DATA, data);
            }
            Expr::Payload { base, offset, len } => {
                w.attr_be32(NFTA_PAYLOAD_DREG, NFT_REG_1);
                w.attr_be32(NFTA_PAYLOAD_BASE, *base);
                w.attr_be32(NFTA_PAYLOAD_OFFSET, *offset);
                w.attr_be32(NFTA_PAYLOAD_LEN, *len);
            }
            Expr::Bitwise(mask) => {
                w.attr_be32(NFTA_BITWISE_SREG, NFT_REG_1);
                w.attr_be32(NFTA_BITWISE_DREG, NFT_REG_1);
                w.attr_be32(NFTA_BITWISE_LEN, mask.len() as u32);
                data_value(w, NFTA_BITWISE_MASK, mask);
                data_value(w, NFTA_BITWISE_XOR, &vec![0; mask.len()]);
            }
            Expr::Queue(num) => {
                w.attr_be16(NFTA_QUEUE_NUM, *num);
                w.attr_be16(NFTA_QUEUE_TOTAL, 1);
                w.attr_be16(NFTA_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
            }
            Expr::XtNfqueue(num) => {
                // struct xt_NFQ_info_v3 { u16 queuenum, queues_total, flags; } in host order,
                // padded to XT_ALIGN (8); flag 1 is NFQ_FLAG_BYPASS.
                let info = [
                    num.to_ne_bytes(),
                    1u16.to_ne_bytes(),
                    1u16.to_ne_bytes(),
                    [0, 0],
                ];
                w.attr_str(NFTA_TARGET_NAME, "NFQUEUE");
                w.attr_be32(NFTA_TARGET_REV, 3);
                w.attr(NFTA_TARGET_INFO, &info.concat());
            }
            Expr::Accept => verdict(w, NF_ACCEPT, None),
            Expr::Jump(chain) => verdict(w, NFT_JUMP as u32, Some(chain)),
        }
        w.end_nest();
        w.end_nest();
    }

    fn kind(&self) -> &'static str {
        match self {
            Expr::Meta(_) => "meta",
            Expr::Cmp(_) => "cmp",
            Expr::Payload { .. } => "payload",
            Expr::Bitwise(_) => "bitwise",
            Expr::Queue(_) => "queue",
            Expr::XtNfqueue(_) => "target",
            Expr::Accept | Expr::Jump(_) => "immediate",
        }
    }
}

fn data_value(w: &mut MsgWriter, ty: u16, data: &[u8]) {
    w.nest(ty);
    w.attr(NFTA_DATA_VALUE, data);
    w.end_nest();
}

fn verdict(w: &mut MsgWriter, code: u32, chain: Option<&str>) {
    w.attr_be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    w.nest(NFTA_IMMEDIATE_DATA);
    w.nest(NFTA_DATA_VERDICT);
    w.attr_be32(NFTA_VERDICT_CODE, code);
    if let Some(chain) = chain {
        w.attr_str(NFTA_VERDICT_CHAIN, chain);
    }
    w.end_nest();
    w.end_nest();
}

/// A chain to create: a base chain on a hook, or a regular chain jumped to.
#[derive(Debug)]
struct ChainPlan {
    name: String,
    hook: Option<u32>,
    rules: Vec<Vec<Expr>>,
}

/// The chains of our table.
fn plan_table(flavor: Flavor, queue: u16, m: &Match) -> Vec<ChainPlan> {
    let queue = match flavor {
        Flavor::Native => Expr::Queue(queue),
        Flavor::Compat => Expr::XtNfqueue(queue),
    };
    let l4 = l4_alternatives(m);
    let mut chains = Vec::new();
    for (ingress, wanted) in [(false, m.direction.egress()), (true, m.direction.ingress())] {
        if wanted {
            let peers = peer_alternatives(&m.cidrs, ingress);
            chains.extend(direction_chains(ingress, peers, &l4, &queue));
        }
    }
    chains
}

/// The base chain of one direction, and a regular chain for the transport conditions when both
/// peers and transport conditions are lists (to keep the rule count a sum, not a product).
fn direction_chains(
    ingress: bool,
    peers: Vec<Vec<Expr>>,
    l4: &[Vec<Expr>],
    queue: &Expr,
) -> Vec<ChainPlan> {
    let (name, hook, iftype) = match ingress {
        false => ("egress", NF_INET_LOCAL_OUT, NFT_META_OIFTYPE),
        true => ("ingress", NF_INET_LOCAL_IN, NFT_META_IIFTYPE),
    };
    let with = |a: &[Expr], b: &[Expr], last: Expr| [a, b, &[last]].concat();
    let mut base = ChainPlan {
        name: name.to_string(),
        hook: Some(hook),
        rules: loopback_skips(ingress, iftype),
    };
    if peers.len() > 1 && l4.len() > 1 {
        let sub = format!("{name}_l4");
        base.rules
            .extend(peers.iter().map(|p| with(p, &[], Expr::Jump(sub.clone()))));
        let rules = l4.iter().map(|t| with(t, &[], queue.clone())).collect();
        return vec![
            base,
            ChainPlan {
                name: sub,
                hook: None,
                rules,
            },
        ];
    }
    for p in &peers {
        base.rules
            .extend(l4.iter().map(|t| with(p, t, queue.clone())));
    }
    vec![base]
}

/// The rules that open a base chain and accept loopback traffic: by peer address (127.0.0.0/8,
/// ::1: the destination on egress, the source on ingress), which also catches packets NAT sent
/// to localhost while `meta oif` still names the real device, then by interface type.
fn loopback_skips(ingress: bool, iftype: u32) -> Vec<Vec<Expr>> {
    let localhost = [
        Cidr::new(std::net::Ipv4Addr::new(127, 0, 0, 0).into(), 8),
        Cidr::new(std::net::Ipv6Addr::LOCALHOST.into(), 128),
    ];
    let by_address = localhost
        .into_iter()
        .flatten()
        .map(|c| [peer(&c, ingress), vec![Expr::Accept]].concat());
    let by_interface = vec![
        Expr::Meta(iftype),
        Expr::Cmp(ARPHRD_LOOPBACK.to_ne_bytes().to_vec()),
        Expr::Accept,
    ];
    by_address.chain([by_interface]).collect()
}

/// The number of rules [`loopback_skips`] puts at the start of each base chain.
#[cfg(test)]
const SKIPS: usize = 3;

/// One alternative per peer range, each behind a `meta nfproto` test; [[]] when any peer will do.
fn peer_alternatives(cidrs: &[Cidr], ingress: bool) -> Vec<Vec<Expr>> {
    if cidrs.is_empty() {
        return vec![vec![]];
    }
    cidrs.iter().map(|c| peer(c, ingress)).collect()
}

fn peer(c: &Cidr, ingress: bool) -> Vec<Expr> {
    let v4 = c.addr().is_ipv4();
    let proto = if v4 { NFPROTO_IPV4 } else { NFPROTO_IPV6 };
    let mut exprs = vec![Expr::Meta(NFT_META_NFPROTO), Expr::Cmp(vec![proto])];
    if c.prefix() == 0 {
        return exprs;
    }
    // saddr/daddr: 12/16 in IPv4, 8/24 in IPv6.
    let (len, offset) = match (v4, ingress) {
        (true, true) => (4, 12),
        (true, false) => (4, 16),
        (false, true) => (16, 8),
        (false, false) => (16, 24),
    };
    exprs.push(Expr::Payload {
        base: NFT_PAYLOAD_NETWORK_HEADER,
        offset,
        len,
    });
    if u32::from(c.prefix()) < len * 8 {
        exprs.push(Expr::Bitwise(c.mask_bytes()));
    }
    exprs.push(Expr::Cmp(c.addr_bytes()));
    exprs
}

/// One alternative per (protocol, port, source-or-destination); [[]] when anything will do.
fn l4_alternatives(m: &Match) -> Vec<Vec<Expr>> {
    let mut protocols = m.protocols.clone();
    if protocols.is_empty() && !m.ports.is_empty() {
        protocols = vec![Protocol::Tcp, Protocol::Udp];
    }
    if protocols.is_empty() {
        return vec![vec![]];
    }
    let mut alternatives = Vec::new();
    for p in protocols {
        let proto = [Expr::Meta(NFT_META_L4PROTO), Expr::Cmp(vec![p.number()])];
        if m.ports.is_empty() {
            alternatives.push(proto.to_vec());
        }
        for port in &m.ports {
            for offset in [0, 2] {
                let load = Expr::Payload {
                    base: NFT_PAYLOAD_TRANSPORT_HEADER,
                    offset,
                    len: 2,
                };
                let cmp = Expr::Cmp(port.to_be_bytes().to_vec());
                alternatives.push([&proto[..], &[load, cmp]].concat());
            }
        }
    }
    alternatives
}

/// Which request a netlink error answered, and how the kernel refused it.
#[derive(Debug)]
struct Refusal {
    errno: i32,
    what: String,
    table_msg: bool,
    rule_msg: bool,
}

impl Refusal {
    fn io(e: io::Error, what: &str) -> Refusal {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        Refusal {
            errno,
            what: what.to_string(),
            table_msg: false,
            rule_msg: false,
        }
    }

    fn into_error(self, table: &str) -> NetError {
        if self.table_msg && self.errno == libc::EEXIST {
            return NetError::TableExists(table.to_string());
        }
        let os = io::Error::from_raw_os_error(self.errno);
        let hint = match self.errno {
            libc::EPERM => " (CAP_NET_ADMIN is needed)",
            _ => "",
        };
        NetError::Netlink(format!("{}: {os}{hint}", self.what))
    }
}

/// Sequence numbers, unique within the process, so that an answer to an earlier batch is never
/// taken for an answer to this one.
static NEXT_SEQ: AtomicU32 = AtomicU32::new(1);

fn next_seq() -> u32 {
    NEXT_SEQ.fetch_add(1, Ordering::Relaxed)
}

/// An nftables transaction: messages between BATCH_BEGIN and BATCH_END, applied atomically.
struct Batch {
    w: MsgWriter,
    first: u32,
    acked: Vec<(u32, String, u16)>,
}

impl Batch {
    fn new() -> Batch {
        let mut w = MsgWriter::default();
        let first = next_seq();
        let (ty, res) = (NFNL_MSG_BATCH_BEGIN, NFNL_SUBSYS_NFTABLES);
        w.begin(ty, NLM_F_REQUEST, first, NFPROTO_UNSPEC, res);
        w.finish();
        Batch {
            w,
            first,
            acked: Vec::new(),
        }
    }

    /// Starts an acknowledged nftables message; `what` names it in errors.
    fn msg(&mut self, msg: u16, flags: u16, family: u8, what: String) -> &mut MsgWriter {
        let seq = next_seq();
        let ty = (NFNL_SUBSYS_NFTABLES << 8) | msg;
        self.w
            .begin(ty, NLM_F_REQUEST | NLM_F_ACK | flags, seq, family, 0);
        self.acked.push((seq, what, msg));
        &mut self.w
    }

    /// Sends the batch and waits for every acknowledgement; the first refusal aborts it all.
    /// Answers to other batches (sequence numbers outside this one) are ignored.
    fn commit(mut self, sock: &NlSocket) -> Result<(), Refusal> {
        let end = next_seq();
        let (ty, res) = (NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES);
        self.w.begin(ty, NLM_F_REQUEST, end, NFPROTO_UNSPEC, res);
        self.w.finish();
        let sent = sock.send(self.w.bytes());
        sent.map_err(|e| Refusal::io(e, "sending the nftables batch"))?;
        let mut pending: Vec<_> = self.acked.iter().map(|(seq, ..)| *seq).collect();
        let mut buf = vec![0u8; 64 * 1024];
        while !pending.is_empty() {
            let received = sock.recv(&mut buf, false);
            let n = received.map_err(|e| Refusal::io(e, "reading nftables acks"))?;
            for (seq, errno) in messages(&buf[..n]).filter_map(|m| m.ack()) {
                if !(self.first..=end).contains(&seq) {
                    continue;
                }
                pending.retain(|s| *s != seq);
                if errno != 0 {
                    return Err(self.refusal(seq, errno));
                }
            }
        }
        Ok(())
    }

    fn refusal(&self, seq: u32, errno: i32) -> Refusal {
        match self.acked.iter().find(|(s, ..)| *s == seq) {
            Some((_, what, msg)) => Refusal {
                errno,
                what: what.clone(),
                table_msg: *msg == NFT_MSG_NEWTABLE,
                rule_msg: *msg == NFT_MSG_NEWRULE,
            },
            None => Refusal {
                errno,
                what: "the nftables batch".into(),
                table_msg: false,
                rule_msg: false,
            },
        }
    }
}

fn add_table(batch: &mut Batch, family: u8, table: &str, chains: &[ChainPlan]) {
    let fam = family_name(family);
    let flags = NLM_F_CREATE | NLM_F_EXCL;
    let w = batch.msg(
        NFT_MSG_NEWTABLE,
        flags,
        family,
        format!("creating table {fam} {table}"),
    );
    w.attr_str(NFTA_TABLE_NAME, table);
    w.attr_be32(NFTA_TABLE_FLAGS, 0);
    let comment = [
        &[NFTNL_UDATA_TABLE_COMMENT, TABLE_COMMENT.len() as u8 + 1],
        TABLE_COMMENT.as_bytes(),
        &[0],
    ];
    w.attr(NFTA_TABLE_USERDATA, &comment.concat());
    w.finish();
    for chain in chains {
        let what = format!("creating chain {fam} {table} {}", chain.name);
        let w = batch.msg(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family, what);
        w.attr_str(NFTA_CHAIN_TABLE, table);
        w.attr_str(NFTA_CHAIN_NAME, &chain.name);
        if let Some(hook) = chain.hook {
            w.nest(NFTA_CHAIN_HOOK);
            w.attr_be32(NFTA_HOOK_HOOKNUM, hook);
            w.attr_be32(NFTA_HOOK_PRIORITY, CHAIN_PRIORITY as u32);
            w.end_nest();
            w.attr_be32(NFTA_CHAIN_POLICY, NF_ACCEPT);
            w.attr_str(NFTA_CHAIN_TYPE, "filter");
        }
        w.finish();
    }
    for chain in chains {
        for (i, rule) in chain.rules.iter().enumerate() {
            let what = format!(
                "adding rule {} of chain {fam} {table} {}",
                i + 1,
                chain.name
            );
            let w = batch.msg(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family, what);
            w.attr_str(NFTA_RULE_TABLE, table);
            w.attr_str(NFTA_RULE_CHAIN, &chain.name);
            w.nest(NFTA_RULE_EXPRESSIONS);
            rule.iter().for_each(|e| e.encode(w));
            w.end_nest();
            w.finish();
        }
    }
}

fn family_name(family: u8) -> &'static str {
    match family {
        NFPROTO_INET => "inet",
        NFPROTO_IPV4 => "ip",
        NFPROTO_IPV6 => "ip6",
        _ => "unknown",
    }
}

/// One attempt at installing, on a socket of its own (so no answer to an earlier attempt can
/// be read as an answer to this one).
fn install_flavor(flavor: Flavor, table: &str, queue: u16, m: &Match) -> Result<(), Refusal> {
    let sock = NlSocket::open().map_err(|e| Refusal::io(e, "opening a netlink socket"))?;
    let timeout = sock.set_recv_timeout(Duration::from_secs(5));
    timeout.map_err(|e| Refusal::io(e, "setting the netlink socket's timeout"))?;
    let mut batch = Batch::new();
    add_table(
        &mut batch,
        NFPROTO_INET,
        table,
        &plan_table(flavor, queue, m),
    );
    batch.commit(&sock)
}

fn check_name(table: &str) -> Result<(), NetError> {
    if !is_ours(table) || table.len() > 255 || table.contains('\0') {
        return Err(NetError::Netlink(format!(
            "{table:?} is not a Faultline table name"
        )));
    }
    Ok(())
}

/// Installs, in one atomic netlink batch, table `table` (family inet) with base chains on the
/// output hook (egress) and/or the input hook (ingress), type filter, priority 10 (see the
/// module docs), whose rules send matching packets to `queue` with the bypass flag, through the
/// native `queue` expression or, where the kernel lacks it, the xtables NFQUEUE target. The
/// table's comment names it as Faultline's. Err(TableExists) if a table with that name exists.
pub fn install(ns: &NetNs, table: &str, queue: u16, m: &Match) -> Result<(), NetError> {
    check_name(table)?;
    ns.run_in(|| {
        let missing_queue = |r: &Refusal| {
            r.rule_msg
                && matches!(
                    r.errno,
                    libc::ENOENT | libc::EOPNOTSUPP | libc::EAFNOSUPPORT
                )
        };
        match install_flavor(Flavor::Native, table, queue, m) {
            Err(r) if missing_queue(&r) => install_flavor(Flavor::Compat, table, queue, m),
            other => other,
        }
        .map_err(|r| r.into_error(table))
    })?
}

/// Deletes our table, and with it every chain and rule (atomically, in whichever of the inet, ip
/// and ip6 families a table of that name exists). Ok(false) if it did not exist: when every
/// attempt met ENOENT, only once [`tables`] confirms the table is no longer listed (an error
/// otherwise, so a revert never reports as gone a table that still shapes traffic).
pub fn remove(ns: &NetNs, table: &str) -> Result<bool, NetError> {
    check_name(table)?;
    ns.run_in(|| {
        let sock = NlSocket::open()?;
        sock.set_recv_timeout(Duration::from_secs(5))?;
        let list = || -> Result<Vec<u8>, NetError> {
            let found = list_tables(&sock)?.into_iter();
            Ok(found.filter(|(_, n)| n == table).map(|(f, _)| f).collect())
        };
        let delete = |families: &[u8]| {
            let mut batch = Batch::new();
            for &family in families {
                let what = format!("deleting table {} {table}", family_name(family));
                let w = batch.msg(NFT_MSG_DELTABLE, 0, family, what);
                w.attr_str(NFTA_TABLE_NAME, table);
                w.finish();
            }
            batch.commit(&sock)
        };
        remove_with(table, list, delete, || tables(ns))
    })?
}

/// How many times [`remove`] lists and deletes before it checks what is left.
const REMOVE_ATTEMPTS: usize = 3;

/// The steps of [`remove`]: `list` gives the families holding the table, `delete` deletes it
/// from those in one batch, `verify` lists our tables' names once every attempt met ENOENT (a
/// table removed by someone else between the listing and the batch: list again).
fn remove_with(
    table: &str,
    mut list: impl FnMut() -> Result<Vec<u8>, NetError>,
    mut delete: impl FnMut(&[u8]) -> Result<(), Refusal>,
    verify: impl FnOnce() -> Result<Vec<String>, NetError>,
) -> Result<bool, NetError> {
    let mut last = None;
    for _ in 0..REMOVE_ATTEMPTS {
        let families = list()?;
        if families.is_empty() {
            return Ok(false);
        }
        match delete(&families) {
            Ok(()) => return Ok(true),
            Err(r) if r.errno == libc::ENOENT => last = Some(r),
            Err(r) => return Err(r.into_error(table)),
        }
    }
    if !verify()?.iter().any(|t| t == table) {
        return Ok(false);
    }
    let why = last.map_or_else(String::new, |r| r.into_error(table).to_string());
    Err(NetError::Netlink(format!(
        "table {table} is still listed after {REMOVE_ATTEMPTS} attempts to delete it ({why})"
    )))
}

/// The names of the tables in the namespace whose names start with "faultline_" (once each,
/// whatever their families), sorted.
pub fn tables(ns: &NetNs) -> Result<Vec<String>, NetError> {
    ns.run_in(|| {
        let sock = NlSocket::open()?;
        sock.set_recv_timeout(Duration::from_secs(5))?;
        let mut names: Vec<String> = list_tables(&sock)?
            .into_iter()
            .map(|(_, n)| n)
            .filter(|n| is_ours(n))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    })?
}

/// Every (family, name) of the inet, ip and ip6 tables, by a GETTABLE dump (retried if a
/// concurrent change interrupted it).
fn list_tables(sock: &NlSocket) -> Result<Vec<(u8, String)>, NetError> {
    let mut buf = vec![0u8; 128 * 1024];
    for _ in 0..5 {
        let mut w = MsgWriter::default();
        let ty = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
        w.begin(ty, NLM_F_REQUEST | NLM_F_DUMP, 1, NFPROTO_UNSPEC, 0);
        w.finish();
        sock.send(w.bytes())?;
        let mut found = Vec::new();
        let done = loop {
            let n = sock.recv(&mut buf, false)?;
            if let Some(done) = dump_part(&buf[..n], &mut found)? {
                break done;
            }
        };
        if done {
            return Ok(found);
        }
        drain(sock, &mut buf);
    }
    Err(NetError::Netlink(
        "listing tables: the dump kept being interrupted".into(),
    ))
}

/// Reads one datagram of a table dump into `found`: Some(true) at its end, Some(false) if a
/// concurrent change interrupted it, None if more is to come.
fn dump_part(datagram: &[u8], found: &mut Vec<(u8, String)>) -> Result<Option<bool>, NetError> {
    for m in messages(datagram) {
        if m.flags & NLM_F_DUMP_INTR != 0 {
            return Ok(Some(false));
        }
        match m.ty {
            NLMSG_DONE => return Ok(Some(true)),
            NLMSG_ERROR => {
                let errno = m.ack().map_or(libc::EIO, |(_, e)| e);
                let refusal = Refusal::io(io::Error::from_raw_os_error(errno), "listing tables");
                return Err(refusal.into_error(""));
            }
            _ => {}
        }
        let family = m.body.first().copied().unwrap_or_default();
        if ![NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6].contains(&family) {
            continue;
        }
        if let Some((_, name)) = m.attrs().find(|(t, _)| *t == NFTA_TABLE_NAME) {
            let name = String::from_utf8_lossy(name)
                .trim_end_matches('\0')
                .to_string();
            found.push((family, name));
        }
    }
    Ok(None)
}

/// Reads and discards what is left of an interrupted dump.
fn drain(sock: &NlSocket, buf: &mut [u8]) {
    while let Ok(n) = sock.recv(buf, true) {
        if messages(&buf[..n]).any(|m| m.ty == NLMSG_DONE || m.ty == NLMSG_ERROR) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfault::Direction;

    fn m(direction: Direction, cidrs: &[&str], ports: &[u16], protocols: &[Protocol]) -> Match {
        Match {
            direction,
            cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
            ports: ports.to_vec(),
            protocols: protocols.to_vec(),
        }
    }

    fn rule_count(chains: &[ChainPlan]) -> Vec<(String, usize)> {
        chains
            .iter()
            .map(|c| (c.name.clone(), c.rules.len()))
            .collect()
    }

    #[test]
    fn everything_egress_is_one_queue_rule_after_the_loopback_skips() {
        let chains = plan_table(Flavor::Native, 7, &Match::default());
        assert_eq!(rule_count(&chains), vec![("egress".into(), SKIPS + 1)]);
        assert_eq!(chains[0].hook, Some(NF_INET_LOCAL_OUT));
        assert_eq!(chains[0].rules[SKIPS], vec![Expr::Queue(7)]);
        let compat = plan_table(Flavor::Compat, 7, &Match::default());
        assert_eq!(compat[0].rules[SKIPS], vec![Expr::XtNfqueue(7)]);
    }

    #[test]
    fn base_chains_first_accept_localhost_by_address_then_by_interface() {
        let both = m(Direction::Both, &["10.0.0.0/8"], &[], &[]);
        let chains = plan_table(Flavor::Native, 7, &both);
        let ipv4 = [Expr::Meta(NFT_META_NFPROTO), Expr::Cmp(vec![NFPROTO_IPV4])];
        let ipv6 = [Expr::Meta(NFT_META_NFPROTO), Expr::Cmp(vec![NFPROTO_IPV6])];
        let mut loopback6 = vec![0; 15];
        loopback6.push(1);
        for (chain, v4_offset, v6_offset, iftype) in [
            (&chains[0], 16, 24, NFT_META_OIFTYPE),
            (&chains[1], 12, 8, NFT_META_IIFTYPE),
        ] {
            let load = |offset, len| Expr::Payload {
                base: NFT_PAYLOAD_NETWORK_HEADER,
                offset,
                len,
            };
            let v4 = [
                load(v4_offset, 4),
                Expr::Bitwise(vec![255, 0, 0, 0]),
                Expr::Cmp(vec![127, 0, 0, 0]),
                Expr::Accept,
            ];
            let v6 = [
                load(v6_offset, 16),
                Expr::Cmp(loopback6.clone()),
                Expr::Accept,
            ];
            assert_eq!(chain.rules[0], [&ipv4[..], &v4].concat(), "{}", chain.name);
            assert_eq!(chain.rules[1], [&ipv6[..], &v6].concat(), "{}", chain.name);
            let interface = vec![
                Expr::Meta(iftype),
                Expr::Cmp(ARPHRD_LOOPBACK.to_ne_bytes().to_vec()),
                Expr::Accept,
            ];
            assert_eq!(chain.rules[2], interface, "{}", chain.name);
            assert_eq!(chain.rules.len(), SKIPS + 1, "{}", chain.name);
        }
    }

    #[test]
    fn peers_and_ports_use_a_sub_chain_so_rules_add_up() {
        let both = m(Direction::Both, &["10.0.0.0/8", "fd00::/8"], &[53, 80], &[]);
        let chains = plan_table(Flavor::Native, 7, &both);
        // The loopback skips + 2 peers; 2 protocols x 2 ports x (sport, dport).
        assert_eq!(
            rule_count(&chains),
            vec![
                ("egress".into(), SKIPS + 2),
                ("egress_l4".into(), 8),
                ("ingress".into(), SKIPS + 2),
                ("ingress_l4".into(), 8)
            ]
        );
        assert_eq!(
            chains[0].rules[SKIPS].last(),
            Some(&Expr::Jump("egress_l4".into()))
        );
        let one_peer = m(Direction::Egress, &["10.0.0.0/8"], &[53, 80], &[]);
        assert_eq!(
            rule_count(&plan_table(Flavor::Native, 7, &one_peer)),
            vec![("egress".into(), SKIPS + 8)]
        );
    }

    #[test]
    fn a_host_peer_is_compared_whole() {
        let host = m(Direction::Egress, &["10.99.0.2/32"], &[], &[]);
        let rules = &plan_table(Flavor::Compat, 1, &host)[0].rules;
        let daddr = Expr::Payload {
            base: NFT_PAYLOAD_NETWORK_HEADER,
            offset: 16,
            len: 4,
        };
        let ipv4 = [Expr::Meta(NFT_META_NFPROTO), Expr::Cmp(vec![NFPROTO_IPV4])];
        let expected = [
            &ipv4[..],
            &[daddr, Expr::Cmp(vec![10, 99, 0, 2]), Expr::XtNfqueue(1)],
        ];
        assert_eq!(rules[SKIPS], expected.concat());
    }

    #[test]
    fn ingress_prefixes_mask_the_source_address() {
        let net = m(Direction::Ingress, &["fd00:1::/32"], &[], &[Protocol::Udp]);
        let rules = &plan_table(Flavor::Native, 1, &net)[0].rules;
        let saddr = Expr::Payload {
            base: NFT_PAYLOAD_NETWORK_HEADER,
            offset: 8,
            len: 16,
        };
        let mut mask = vec![255; 4];
        mask.resize(16, 0);
        let mut net_bytes = vec![0xfd, 0, 0, 1];
        net_bytes.resize(16, 0);
        let ipv6 = [Expr::Meta(NFT_META_NFPROTO), Expr::Cmp(vec![NFPROTO_IPV6])];
        let udp = [Expr::Meta(NFT_META_L4PROTO), Expr::Cmp(vec![17])];
        let peer = [saddr, Expr::Bitwise(mask), Expr::Cmp(net_bytes)];
        let expected = [&ipv6[..], &peer, &udp, &[Expr::Queue(1)]].concat();
        assert_eq!(rules[SKIPS], expected);
    }

    fn enoent() -> Refusal {
        Refusal {
            errno: libc::ENOENT,
            what: "deleting table inet faultline_x".into(),
            table_msg: false,
            rule_msg: false,
        }
    }

    #[test]
    fn remove_reports_gone_only_when_the_table_is_no_longer_listed() {
        let table = "faultline_x";
        let listed = || Ok(vec![table.to_string()]);
        // The kernel keeps answering ENOENT, yet the table stays listed: an error, not "gone".
        let mut deletes = 0;
        let stuck = remove_with(
            table,
            || Ok(vec![NFPROTO_INET]),
            |_| {
                deletes += 1;
                Err(enoent())
            },
            listed,
        );
        assert!(matches!(stuck, Err(NetError::Netlink(_))), "{stuck:?}");
        assert_eq!(deletes, REMOVE_ATTEMPTS);
        // ENOENT because someone else deleted it meanwhile: gone, as the listing confirms.
        let raced = remove_with(
            table,
            || Ok(vec![NFPROTO_INET]),
            |_| Err(enoent()),
            || Ok(vec!["faultline_other".into()]),
        );
        assert!(!raced.unwrap());
        let mut listings = 0;
        let absent = remove_with(
            table,
            || {
                listings += 1;
                Ok(vec![])
            },
            |_| panic!("nothing to delete"),
            || panic!("nothing to verify"),
        );
        assert_eq!((absent.unwrap(), listings), (false, 1));
        let deleted = remove_with(table, || Ok(vec![NFPROTO_INET]), |_| Ok(()), listed);
        assert!(deleted.unwrap());
        let refused = remove_with(
            table,
            || Ok(vec![NFPROTO_INET]),
            |_| {
                Err(Refusal {
                    errno: libc::EPERM,
                    ..enoent()
                })
            },
            listed,
        );
        assert!(matches!(refused, Err(NetError::Netlink(m)) if m.contains("CAP_NET_ADMIN")));
    }

    #[test]
    fn messages_and_attributes_round_trip() {
        let mut w = MsgWriter::default();
        w.begin(0x0a00, NLM_F_REQUEST, 9, NFPROTO_INET, 0);
        w.attr_str(NFTA_TABLE_NAME, "faultline_x");
        w.nest(NFTA_CHAIN_HOOK);
        w.attr_be32(NFTA_HOOK_HOOKNUM, 3);
        w.end_nest();
        w.finish();
        let msgs: Vec<_> = messages(w.bytes()).collect();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].ty, 0x0a00);
        let attrs: Vec<_> = msgs[0].attrs().collect();
        assert_eq!(attrs[0], (NFTA_TABLE_NAME, &b"faultline_x\0"[..]));
        assert_eq!(attrs[1].0, NFTA_CHAIN_HOOK);
        assert_eq!(
            super::attrs(attrs[1].1).next(),
            Some((NFTA_HOOK_HOOKNUM, &[0, 0, 0, 3][..]))
        );
    }
}
