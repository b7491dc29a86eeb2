//! The NFQUEUE loop: one thread receives every queued packet, decides its fate through
//! [`crate::domain::packets`], and gives verdicts. Delayed packets wait in a min-heap by due time;
//! the thread polls the socket with the next due time as its timeout, so one slow packet never
//! holds up the others. The NFQUEUE messages are written by hand (the `nfq` crate gives no file
//! descriptor to poll).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::nft::sys::*;
use super::nft::{MAX_ATTR_DATA, MsgWriter, NlMsg, NlSocket, messages};
use super::{Action, NetError, NetNs};
use crate::domain::packets::{DnsVerdict, dns_verdict, sample_delay, should_drop};

/// Packets the kernel keeps for us before fail-open accepts the rest unshaped (netem's default
/// limit is 1000; a 100 ms delay at 80,000 packets/s needs 8,000).
const QUEUE_MAXLEN: u32 = 8192;
/// The socket's receive buffer: a burst waits here while the thread gives verdicts.
const RCVBUF: i32 = 8 << 20;
/// Packets read before the thread looks at the heap again.
const READ_BATCH: usize = 256;
/// Verdicts collected before they are sent in one datagram.
const VERDICT_FLUSH: usize = 32 * 1024;
/// How long stopping waits for the kernel to acknowledge the drained queue.
const STOP_TIMEOUT: Duration = Duration::from_secs(1);

/// Counters of what the engine did. `packets` counts every packet received; each one ends in
/// exactly one of the other counters once it has its verdict (held packets are counted as
/// `delayed` when released, even when released early by [`Engine::stop`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets received from the queue.
    pub packets: u64,
    /// Accepted at once, unchanged.
    pub accepted: u64,
    /// Held, then accepted.
    pub delayed: u64,
    /// Dropped.
    pub dropped: u64,
    /// DNS queries answered with REFUSED.
    pub refused: u64,
}

#[derive(Debug, Default)]
struct Counters {
    packets: AtomicU64,
    accepted: AtomicU64,
    delayed: AtomicU64,
    dropped: AtomicU64,
    refused: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        Stats {
            packets: self.packets.load(Relaxed),
            accepted: self.accepted.load(Relaxed),
            delayed: self.delayed.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            refused: self.refused.load(Relaxed),
        }
    }
}

/// A running verdict thread bound to one queue in one network namespace.
#[derive(Debug)]
pub struct Engine {
    thread: Option<JoinHandle<()>>,
    wake: Arc<OwnedFd>,
    counters: Arc<Counters>,
    /// Set while the verdict loop serves its bound queue; cleared by the thread itself the
    /// moment the loop ends, whatever the reason (see [`Engine::healthy`]).
    serving: Arc<AtomicBool>,
}

impl Engine {
    /// Binds `queue` in `ns` (the socket is created inside the namespace), copies only what the
    /// action reads (the whole packet for DnsError, metadata otherwise: a verdict without payload
    /// keeps the original packet), sets fail-open (the kernel accepts packets when our queue is
    /// full), and starts the thread that decides every packet. Returns once the queue is bound,
    /// so the caller can install the rules after it.
    pub fn start(ns: &NetNs, queue: u16, action: Action) -> Result<Engine, NetError> {
        let sock = ns.run_in(NlSocket::open)??;
        let copy_packets = matches!(action, Action::DnsError { .. });
        configure(&sock, queue, copy_packets)?;
        Engine::spawn(sock, queue, action)
    }

    /// Starts the verdict thread on a socket already bound to `queue`.
    fn spawn(sock: NlSocket, queue: u16, action: Action) -> Result<Engine, NetError> {
        // SAFETY: eventfd returns a new descriptor that we own at once.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error().into());
        }
        let wake = Arc::new(unsafe { OwnedFd::from_raw_fd(fd) });
        let counters = Arc::new(Counters::default());
        let serving = Arc::new(AtomicBool::new(true));
        let worker = Worker {
            sock,
            queue,
            action,
            counters: counters.clone(),
            wake: wake.clone(),
            rng: SmallRng::from_os_rng(),
            held: BinaryHeap::new(),
            out: MsgWriter::default(),
            buf: vec![0; 0x10000 + 4096],
            serving: serving.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("faultline-nfq-{queue}"))
            .spawn(move || worker.run())?;
        Ok(Engine {
            thread: Some(thread),
            wake,
            counters,
            serving,
        })
    }

    /// Live counters.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Whether the verdict thread still exists. It may be winding down after a failure (it then
    /// spends up to a second accepting what it held): to know whether packets are still being
    /// shaped, ask [`Engine::healthy`].
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Whether the engine still shapes traffic: its thread is alive and serving the queue it
    /// bound in [`Engine::start`]. False from the moment the loop ends for any reason (a socket
    /// error, which the thread logs; a panic; [`Engine::stop`]), even while the thread is still
    /// releasing what it held. The kernel then fails open (the queue's bypass flag), so an
    /// unhealthy engine means the fault has silently stopped: its traffic flows unshaped.
    pub fn healthy(&self) -> bool {
        self.serving.load(Relaxed) && self.is_running()
    }

    /// Stops the thread: new packets are left to fail-open, every held packet is accepted, then
    /// the socket closes (the bypass flag then lets traffic through the rules unqueued).
    pub fn stop(mut self) -> Stats {
        self.halt();
        self.counters.snapshot()
    }

    fn halt(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes to our own eventfd.
        unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr().cast(), one.len()) };
        if thread.join().is_err() {
            tracing::error!(
                "the NFQUEUE thread panicked; its socket is closed, traffic bypasses the queue"
            );
        }
    }
}

impl Drop for Engine {
    /// Dropping the engine stops it as [`Engine::stop`] does.
    fn drop(&mut self) {
        self.halt();
    }
}

/// Binds the queue and sets copy mode, queue length and flags, in one acknowledged message.
fn configure(sock: &NlSocket, queue: u16, copy_packets: bool) -> Result<(), NetError> {
    sock.set_opt(libc::SOL_NETLINK, libc::NETLINK_NO_ENOBUFS, 1)?;
    if sock
        .set_opt(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF)
        .is_err()
    {
        sock.set_opt(libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF)?;
    }
    let mut w = MsgWriter::default();
    w.begin(
        NFQ_CONFIG,
        NLM_F_REQUEST | NLM_F_ACK,
        1,
        libc::AF_UNSPEC as u8,
        queue,
    );
    w.attr(NFQA_CFG_CMD, &[NFQNL_CFG_CMD_BIND, 0, 0, 0]);
    let (mode, range) = if copy_packets {
        (NFQNL_COPY_PACKET, 0xffff_u32)
    } else {
        (NFQNL_COPY_META, 0)
    };
    w.attr(
        NFQA_CFG_PARAMS,
        &[&range.to_be_bytes()[..], &[mode]].concat(),
    );
    w.attr_be32(NFQA_CFG_QUEUE_MAXLEN, QUEUE_MAXLEN);
    // GSO packets come whole (no segmentation on our behalf); we never rewrite those.
    w.attr_be32(NFQA_CFG_MASK, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
    w.attr_be32(NFQA_CFG_FLAGS, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
    w.finish();
    sock.set_recv_timeout(Duration::from_secs(5))?;
    sock.send(w.bytes())?;
    let mut buf = vec![0u8; 8192];
    loop {
        let n = sock.recv(&mut buf, false)?;
        if let Some((_, errno)) =
            messages(&buf[..n]).find_map(|m| m.ack().filter(|(seq, _)| *seq == 1))
        {
            return match errno {
                0 => Ok(()),
                libc::EPERM => Err(NetError::Netlink(format!(
                    "binding NFQUEUE {queue}: Operation not permitted (another socket in this \
                     namespace holds the queue, or CAP_NET_ADMIN is missing)"
                ))),
                e => Err(NetError::Netlink(format!(
                    "binding NFQUEUE {queue}: {}",
                    io::Error::from_raw_os_error(e)
                ))),
            };
        }
    }
}

/// Writes one verdict message. A replacement payload too long for a netlink attribute (see
/// [`MAX_ATTR_DATA`]) is never written: the packet is dropped instead. Returns the verdict given.
fn write_verdict(
    w: &mut MsgWriter,
    queue: u16,
    id: u32,
    verdict: u32,
    payload: Option<&[u8]>,
) -> u32 {
    let fits = payload.is_none_or(|p| p.len() <= MAX_ATTR_DATA);
    let verdict = if fits { verdict } else { NF_DROP };
    w.begin(NFQ_VERDICT, NLM_F_REQUEST, 0, libc::AF_UNSPEC as u8, queue);
    w.attr(
        NFQA_VERDICT_HDR,
        &[verdict.to_be_bytes(), id.to_be_bytes()].concat(),
    );
    if let Some(payload) = payload.filter(|_| fits) {
        w.attr(NFQA_PAYLOAD, payload);
    }
    w.finish();
    verdict
}

const NFQ_PACKET: u16 = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
const NFQ_VERDICT: u16 = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
const NFQ_CONFIG: u16 = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;

/// What happens to one packet.
enum Fate {
    Accept,
    Drop,
    Hold(Duration),
    Answer(Vec<u8>),
}

/// A queued packet as the kernel describes it.
struct Queued<'a> {
    id: u32,
    hook: u8,
    payload: &'a [u8],
    truncated: bool,
}

fn parse_packet<'a>(msg: &NlMsg<'a>) -> Option<Queued<'a>> {
    let mut packet = Queued {
        id: 0,
        hook: 0,
        payload: &[],
        truncated: false,
    };
    let mut has_header = false;
    for (ty, value) in msg.attrs() {
        match ty {
            NFQA_PACKET_HDR if value.len() >= 7 => {
                packet.id = u32::from_be_bytes([value[0], value[1], value[2], value[3]]);
                packet.hook = value[6];
                has_header = true;
            }
            NFQA_PAYLOAD => packet.payload = value,
            NFQA_CAP_LEN => packet.truncated = true,
            _ => {}
        }
    }
    has_header.then_some(packet)
}

struct Worker {
    sock: NlSocket,
    queue: u16,
    action: Action,
    counters: Arc<Counters>,
    wake: Arc<OwnedFd>,
    rng: SmallRng,
    held: BinaryHeap<Reverse<(Instant, u32)>>,
    out: MsgWriter,
    buf: Vec<u8>,
    serving: Arc<AtomicBool>,
}

/// Clears the engine's `serving` flag when dropped: also when the thread unwinds from a panic.
struct NotServing(Arc<AtomicBool>);

impl Drop for NotServing {
    fn drop(&mut self) {
        self.0.store(false, Relaxed);
    }
}

impl Worker {
    fn run(mut self) {
        let serving = NotServing(self.serving.clone());
        let served = self.serve();
        drop(serving);
        if let Err(e) = served {
            tracing::warn!(queue = self.queue, error = %e, "NFQUEUE loop failed; releasing held packets");
        }
        if let Err(e) = self.shutdown() {
            tracing::warn!(queue = self.queue, error = %e, "NFQUEUE shutdown was not clean");
        }
    }

    /// Receives, decides and releases until the engine is stopped.
    fn serve(&mut self) -> io::Result<()> {
        loop {
            let timeout = self
                .held
                .peek()
                .map(|Reverse((due, _))| due.saturating_duration_since(Instant::now()));
            let [sock_ready, wake_ready] =
                poll([self.sock.as_raw_fd(), self.wake.as_raw_fd()], timeout)?;
            if wake_ready {
                return Ok(());
            }
            if sock_ready {
                self.receive(READ_BATCH, false)?;
            }
            self.release_until(Some(Instant::now()));
            self.flush()?;
        }
    }

    /// Reads up to `limit` datagrams without blocking; with `immediate`, every packet is accepted
    /// at once (while stopping). Returns the acks seen (seq, errno).
    fn receive(&mut self, limit: usize, immediate: bool) -> io::Result<Vec<(u32, i32)>> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut acks = Vec::new();
        for _ in 0..limit {
            let n = match self.sock.recv(&mut buf, true) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // Messages lost to a full buffer: their packets are already failed open.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                Err(e) => {
                    self.buf = buf;
                    return Err(e);
                }
            };
            for msg in messages(&buf[..n]) {
                if let Some(ack) = msg.ack() {
                    acks.push(ack);
                } else if let Some(packet) = parse_packet(&msg).filter(|_| msg.ty == NFQ_PACKET) {
                    self.counters.packets.fetch_add(1, Relaxed);
                    let fate = if immediate {
                        Fate::Accept
                    } else {
                        self.decide(&packet)
                    };
                    self.apply(packet.id, fate);
                }
            }
            if self.out.bytes().len() > VERDICT_FLUSH {
                self.flush()?;
            }
        }
        self.buf = buf;
        Ok(acks)
    }

    fn decide(&mut self, packet: &Queued<'_>) -> Fate {
        match &self.action {
            Action::Delay { latency, jitter } => {
                Fate::Hold(sample_delay(*latency, *jitter, &mut self.rng))
            }
            Action::Drop { probability } if should_drop(*probability, &mut self.rng) => Fate::Drop,
            Action::Drop { .. } => Fate::Accept,
            Action::DropAll => Fate::Drop,
            Action::DnsError { refuse, pattern } => {
                // Only a mangled LOCAL_OUT packet is routed again, back to the asking socket.
                let can_answer = u32::from(packet.hook) == NF_INET_LOCAL_OUT && !packet.truncated;
                match dns_verdict(packet.payload, pattern.as_deref(), *refuse, can_answer) {
                    DnsVerdict::Accept => Fate::Accept,
                    DnsVerdict::Drop => Fate::Drop,
                    // An answer that no verdict attribute can carry: the query is dropped.
                    DnsVerdict::Answer(answer) if answer.len() > MAX_ATTR_DATA => Fate::Drop,
                    DnsVerdict::Answer(answer) => Fate::Answer(answer),
                }
            }
        }
    }

    fn apply(&mut self, id: u32, fate: Fate) {
        let c = &self.counters;
        match fate {
            Fate::Accept => {
                c.accepted.fetch_add(1, Relaxed);
                self.verdict(id, NF_ACCEPT, None);
            }
            Fate::Drop => {
                c.dropped.fetch_add(1, Relaxed);
                self.verdict(id, NF_DROP, None);
            }
            Fate::Hold(delay) if delay.is_zero() => {
                c.delayed.fetch_add(1, Relaxed);
                self.verdict(id, NF_ACCEPT, None);
            }
            Fate::Hold(delay) => self.held.push(Reverse((Instant::now() + delay, id))),
            Fate::Answer(packet) => {
                c.refused.fetch_add(1, Relaxed);
                self.verdict(id, NF_ACCEPT, Some(&packet));
            }
        }
    }

    /// Accepts the held packets due by `now` (all of them when `now` is None).
    fn release_until(&mut self, now: Option<Instant>) {
        while let Some(Reverse((due, id))) = self.held.peek().copied() {
            if now.is_some_and(|now| due > now) {
                break;
            }
            self.held.pop();
            self.counters.delayed.fetch_add(1, Relaxed);
            self.verdict(id, NF_ACCEPT, None);
        }
    }

    /// Queues a verdict message; [`Worker::flush`] sends them.
    fn verdict(&mut self, id: u32, verdict: u32, payload: Option<&[u8]>) {
        write_verdict(&mut self.out, self.queue, id, verdict, payload);
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.out.bytes().is_empty() {
            return Ok(());
        }
        let sent = self.sock.send(self.out.bytes());
        self.out.clear();
        sent
    }

    /// Leaves new packets to the kernel (a queue of length 0 with fail-open accepts them
    /// unqueued), accepts what was already queued, then releases every held packet. Closing the
    /// socket with packets still queued would drop them.
    fn shutdown(&mut self) -> io::Result<()> {
        let drained = self.drain_queue();
        self.release_until(None);
        let flushed = self.flush();
        drained.and(flushed)
    }

    /// Sets the kernel queue's length to 0 and accepts what was queued before the kernel
    /// acknowledged it.
    fn drain_queue(&mut self) -> io::Result<()> {
        const SEQ: u32 = 2;
        let mut w = MsgWriter::default();
        let family = libc::AF_UNSPEC as u8;
        w.begin(
            NFQ_CONFIG,
            NLM_F_REQUEST | NLM_F_ACK,
            SEQ,
            family,
            self.queue,
        );
        w.attr_be32(NFQA_CFG_QUEUE_MAXLEN, 0);
        w.finish();
        self.sock.send(w.bytes())?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let [ready, _] = poll([self.sock.as_raw_fd(), -1], Some(left))?;
            if ready
                && self
                    .receive(usize::MAX, true)?
                    .iter()
                    .any(|(s, _)| *s == SEQ)
            {
                // Whatever the kernel queued just before the ack.
                self.receive(usize::MAX, true)?;
                return Ok(());
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no ack for the queue length change",
        ))
    }
}

/// Waits until one of `fds` is readable or `timeout` passes (None waits forever); a negative
/// fd is ignored. Nanosecond timeouts (ppoll), so short delays stay precise.
fn poll<const N: usize>(fds: [RawFd; N], timeout: Option<Duration>) -> io::Result<[bool; N]> {
    let mut pfds = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: pfds and ts live across the call.
    let n = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            N as libc::nfds_t,
            ts_ptr,
            std::ptr::null(),
        )
    };
    if n < 0 {
        let err = io::Error::last_os_error();
        return if err.kind() == io::ErrorKind::Interrupted {
            Ok([false; N])
        } else {
            Err(err)
        };
    }
    if pfds.iter().any(|p| p.revents & libc::POLLNVAL != 0) {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    Ok(pfds.map(|p| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_turns_false_once_the_loop_fails() {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two new descriptors, owned at once.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let engine = Engine::spawn(NlSocket::from_fd(read), 1, Action::DropAll).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(engine.healthy(), "an idle engine is healthy");
        // Readable but no socket: recv fails (ENOTSOCK) as a broken netlink socket would.
        // SAFETY: writing one byte to our own pipe.
        assert_eq!(
            unsafe { libc::write(write.as_raw_fd(), [1u8].as_ptr().cast(), 1) },
            1
        );
        let deadline = Instant::now() + Duration::from_secs(2);
        while engine.healthy() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!engine.healthy(), "the loop failed: the engine must say so");
        let stats = engine.stop();
        assert_eq!(stats.packets, 0);
    }

    #[test]
    fn a_replacement_too_long_for_an_attribute_becomes_a_drop() {
        let mut w = MsgWriter::default();
        let fits = vec![0x45; MAX_ATTR_DATA];
        let too_long = vec![0x45; MAX_ATTR_DATA + 1];
        assert_eq!(
            write_verdict(&mut w, 3, 7, NF_ACCEPT, Some(&fits)),
            NF_ACCEPT
        );
        assert_eq!(
            write_verdict(&mut w, 3, 8, NF_ACCEPT, Some(&too_long)),
            NF_DROP
        );
        let msgs: Vec<_> = messages(w.bytes()).collect();
        assert_eq!(msgs.len(), 2);
        let first: Vec<_> = msgs[0].attrs().collect();
        assert_eq!(first[0], (NFQA_VERDICT_HDR, &[0, 0, 0, 1, 0, 0, 0, 7][..]));
        assert_eq!(first[1], (NFQA_PAYLOAD, &fits[..]));
        let second: Vec<_> = msgs[1].attrs().collect();
        assert_eq!(
            second,
            vec![(NFQA_VERDICT_HDR, &[0, 0, 0, 0, 0, 0, 0, 8][..])]
        );
    }
}
