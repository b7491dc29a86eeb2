//! The packet-verdict engine in scratch network namespaces: two `unshare -n` processes joined by
//! a veth pair (10.99.0.1 in A, 10.99.0.2 and 10.99.1.2 in B), shaped through the library, with
//! effects measured by UDP round trips. Needs root; skips (passes with a message) otherwise.
//! Never uses `ip netns` (which would disturb a cluster running on the same machine).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use faultline::domain::packets::dns_query;
use faultline::netfault::{self, Action, Direction, Engine, Match, NetNs, Protocol};

const MS: Duration = Duration::from_millis(1);

/// The `unshare -n sleep` processes that hold the scratch namespaces; killed on drop.
struct Holders(Vec<Child>);

impl Drop for Holders {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Two scratch namespaces joined by veth; they go when the holders die and the handles close.
struct Pair {
    a: NetNs,
    b: NetNs,
    pid_a: u32,
    _holders: Holders,
}

/// A scratch namespace pair, or None (after saying why) when this process cannot make one.
fn pair() -> Option<Pair> {
    if unsafe { libc::geteuid() } != 0 {
        println!("SKIPPED: network namespace tests need root");
        return None;
    }
    let own = std::fs::metadata("/proc/self/ns/net").ok()?;
    let mut holders = Holders(Vec::new());
    for _ in 0..2 {
        let spawned = Command::new("unshare")
            .args(["-n", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            println!("SKIPPED: cannot run unshare");
            return None;
        };
        holders.0.push(child);
    }
    let a = open_when_unshared(&mut holders.0[0], &own)?;
    let b = open_when_unshared(&mut holders.0[1], &own)?;
    let (pid_a, pid_b) = (holders.0[0].id(), holders.0[1].id());
    let pid_b_arg = pid_b.to_string();
    sh(
        pid_a,
        &[
            "ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns",
            &pid_b_arg,
        ],
    );
    sh(
        pid_a,
        &["ip", "addr", "add", "10.99.0.1/24", "dev", "veth0"],
    );
    sh(
        pid_a,
        &["ip", "addr", "add", "fd99::1/64", "dev", "veth0", "nodad"],
    );
    sh(pid_a, &["ip", "link", "set", "veth0", "up"]);
    sh(pid_a, &["ip", "link", "set", "lo", "up"]);
    sh(
        pid_a,
        &["ip", "route", "add", "10.99.1.0/24", "via", "10.99.0.2"],
    );
    sh(
        pid_b,
        &["ip", "addr", "add", "10.99.0.2/24", "dev", "veth1"],
    );
    sh(
        pid_b,
        &["ip", "addr", "add", "10.99.1.2/24", "dev", "veth1"],
    );
    sh(
        pid_b,
        &["ip", "addr", "add", "fd99::2/64", "dev", "veth1", "nodad"],
    );
    sh(pid_b, &["ip", "link", "set", "veth1", "up"]);
    sh(pid_b, &["ip", "link", "set", "lo", "up"]);
    Some(Pair {
        a,
        b,
        pid_a,
        _holders: holders,
    })
}

/// The holder's namespace once `unshare` has entered it; None (skip) if unshare failed.
fn open_when_unshared(child: &mut Child, own: &std::fs::Metadata) -> Option<NetNs> {
    use std::os::unix::fs::MetadataExt;
    let path = format!("/proc/{}/ns/net", child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            println!("SKIPPED: unshare -n failed ({status})");
            return None;
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.ino() != own.ino()) {
            return Some(NetNs::open(Path::new(&path)).expect("open the scratch namespace"));
        }
        std::thread::sleep(5 * MS);
    }
    println!("SKIPPED: unshare -n did not enter a new namespace");
    None
}

fn sh(pid: u32, args: &[&str]) {
    let ns = format!("--net=/proc/{pid}/ns/net");
    let out = Command::new("nsenter")
        .arg(ns)
        .args(args)
        .output()
        .expect("run nsenter");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Prints the namespace's ruleset as `nft` reads it back, when the binary is installed.
fn show_ruleset(pid: u32) {
    let ns = format!("--net=/proc/{pid}/ns/net");
    if let Ok(out) = Command::new("nsenter")
        .args([&ns, "nft", "list", "ruleset"])
        .output()
    {
        println!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A UDP server thread in a namespace; `answer` maps a request to its reply (None: no reply).
struct Server {
    stop: Arc<AtomicBool>,
    seen: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(ns: &NetNs, port: u16, answer: fn(&[u8]) -> Option<Vec<u8>>) -> Server {
        let sock = ns
            .run_in(|| UdpSocket::bind(("0.0.0.0", port)))
            .unwrap()
            .unwrap();
        Server::serve(sock, answer)
    }

    fn serve(sock: UdpSocket, answer: fn(&[u8]) -> Option<Vec<u8>>) -> Server {
        sock.set_read_timeout(Some(50 * MS)).unwrap();
        let (stop, seen) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop2.load(Ordering::Relaxed) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    seen2.fetch_add(1, Ordering::Relaxed);
                    if let Some(reply) = answer(&buf[..n]) {
                        let _ = sock.send_to(&reply, from);
                    }
                }
            }
        });
        Server {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn echo(request: &[u8]) -> Option<Vec<u8>> {
    Some(request.to_vec())
}

fn client(ns: &NetNs) -> UdpSocket {
    let sock = ns.run_in(|| UdpSocket::bind("0.0.0.0:0")).unwrap().unwrap();
    sock.set_read_timeout(Some(400 * MS)).unwrap();
    sock
}

/// One UDP round trip to `to`, or None if no reply came within the read timeout.
fn ping(sock: &UdpSocket, to: &str, seq: u64) -> Option<Duration> {
    let start = Instant::now();
    sock.send_to(&seq.to_be_bytes(), to).unwrap();
    let mut buf = [0u8; 64];
    loop {
        let (n, _) = sock.recv_from(&mut buf).ok()?;
        if buf[..n] == seq.to_be_bytes() {
            return Some(start.elapsed());
        }
    }
}

fn median_rtt(sock: &UdpSocket, to: &str, n: u64) -> Duration {
    let mut rtts: Vec<_> = (0..n)
        .map(|i| ping(sock, to, 1000 + i).expect("an echo reply"))
        .collect();
    rtts.sort();
    rtts[rtts.len() / 2]
}

fn shape(ns: &NetNs, name: &str, action: Action, m: &Match) -> (Engine, String) {
    let table = netfault::table_name("test", name, "fault");
    let queue = netfault::queue_number(&table);
    let engine = Engine::start(ns, queue, action).expect("bind the queue");
    netfault::install(ns, &table, queue, m).expect("install the table");
    (engine, table)
}

fn delay(ms: u64) -> Action {
    Action::Delay {
        latency: Duration::from_millis(ms),
        jitter: Duration::ZERO,
    }
}

#[test]
fn delay_on_egress_adds_the_latency_and_revert_removes_it() {
    let Some(p) = pair() else { return };
    let _echo = Server::start(&p.b, 7, echo);
    let sock = client(&p.a);
    let before = median_rtt(&sock, "10.99.0.2:7", 5);
    let (engine, table) = shape(&p.a, "latency", delay(100), &Match::default());
    show_ruleset(p.pid_a);
    let shaped = median_rtt(&sock, "10.99.0.2:7", 20);
    let stats = engine.stop();
    assert!(netfault::remove(&p.a, &table).unwrap());
    let after = median_rtt(&sock, "10.99.0.2:7", 20);
    println!("latency: before {before:?}, shaped {shaped:?}, after {after:?}; {stats:?}");
    assert!((100 * MS..=140 * MS).contains(&shaped), "{shaped:?}");
    assert!(after < 5 * MS, "{after:?}");
    assert!(stats.delayed >= 20, "{stats:?}");
}

#[test]
fn a_dead_engine_fails_open_and_the_table_stays_until_removed() {
    let Some(p) = pair() else { return };
    let _echo = Server::start(&p.b, 7, echo);
    let sock = client(&p.a);
    let (engine, table) = shape(&p.a, "failopen", delay(100), &Match::default());
    let queue = netfault::queue_number(&table);
    let again = netfault::install(&p.a, &table, queue, &Match::default());
    assert!(
        matches!(again, Err(netfault::NetError::TableExists(_))),
        "{again:?}"
    );
    assert!(median_rtt(&sock, "10.99.0.2:7", 3) >= 100 * MS);
    // A packet held when the engine goes is released, not lost.
    let start = Instant::now();
    sock.send_to(b"held", "10.99.0.2:7").unwrap();
    std::thread::sleep(20 * MS);
    drop(engine);
    let mut buf = [0u8; 16];
    let (n, _) = sock.recv_from(&mut buf).expect("the held packet's echo");
    let held = start.elapsed();
    assert_eq!(&buf[..n], b"held");
    let first = ping(&sock, "10.99.0.2:7", 1).expect("traffic passes the orphaned rules");
    let median = median_rtt(&sock, "10.99.0.2:7", 10);
    println!("fail-open: held packet back after {held:?}, first ping {first:?}, median {median:?}");
    assert!(held < 90 * MS, "{held:?}");
    assert!(first < 5 * MS && median < 5 * MS, "{first:?} {median:?}");
    assert_eq!(netfault::tables(&p.a).unwrap(), vec![table.clone()]);
    assert!(netfault::remove(&p.a, &table).unwrap());
    assert!(!netfault::remove(&p.a, &table).unwrap());
    assert!(netfault::tables(&p.a).unwrap().is_empty());
}

#[test]
fn random_drop_loses_the_given_share() {
    let Some(p) = pair() else { return };
    let sink = Server::start(&p.b, 9, |_| None);
    let sock = client(&p.a);
    let (engine, table) = shape(
        &p.a,
        "loss",
        Action::Drop { probability: 0.3 },
        &Match::default(),
    );
    for i in 0..1000u32 {
        sock.send_to(&i.to_be_bytes(), "10.99.0.2:9").unwrap();
        if i % 20 == 0 {
            std::thread::sleep(MS);
        }
    }
    std::thread::sleep(300 * MS);
    let loss = 1.0 - sink.seen() as f64 / 1000.0;
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!("loss: {loss:.3} measured at the receiver; {stats:?}");
    assert!((0.2..0.4).contains(&loss), "{loss}");
    // Every packet leaving A is shaped: IPv6 neighbour discovery may add a few.
    assert_eq!(stats.dropped + stats.accepted, stats.packets, "{stats:?}");
    assert!(stats.packets >= 1000, "{stats:?}");
}

#[test]
fn a_partition_cuts_only_the_selected_peer_and_port() {
    let Some(p) = pair() else { return };
    let (_e7, _e8) = (Server::start(&p.b, 7, echo), Server::start(&p.b, 8, echo));
    let sock = client(&p.a);
    let m = Match {
        cidrs: vec!["10.99.0.2/32".parse().unwrap()],
        ports: vec![7],
        ..Match::default()
    };
    let (engine, table) = shape(&p.a, "partition", Action::DropAll, &m);
    show_ruleset(p.pid_a);
    let cut = ping(&sock, "10.99.0.2:7", 1);
    let other_address = ping(&sock, "10.99.1.2:7", 2);
    let other_port = ping(&sock, "10.99.0.2:8", 3);
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!(
        "partition: cut {cut:?}, other address {other_address:?}, other port {other_port:?}; {stats:?}"
    );
    assert_eq!(cut, None);
    assert!(other_address.is_some_and(|d| d < 5 * MS));
    assert!(other_port.is_some_and(|d| d < 5 * MS));
    assert_eq!(stats.dropped, stats.packets);
}

/// A DNS server that answers every query with one A record, 192.0.2.1.
fn dns_answer(query: &[u8]) -> Option<Vec<u8>> {
    let mut answer = query.to_vec();
    answer[2] |= 0x80;
    answer[3] = 0x80;
    answer[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
    answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    Some(answer)
}

/// Sends a query for `name` and returns (RCODE, ANCOUNT, round trip), None on timeout.
fn resolve(sock: &UdpSocket, name: &str, id: u16) -> Option<(u8, u16, Duration)> {
    resolve_at(sock, "10.99.0.2:53", name, id)
}

fn resolve_at(sock: &UdpSocket, server: &str, name: &str, id: u16) -> Option<(u8, u16, Duration)> {
    let start = Instant::now();
    sock.send_to(&dns_query(id, name, 1), server).unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = sock.recv_from(&mut buf).ok()?;
    let server: SocketAddr = server.parse().unwrap();
    assert_eq!(from, server, "the answer comes from the server's address");
    assert!(n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0);
    Some((
        buf[3] & 0x0f,
        u16::from_be_bytes([buf[6], buf[7]]),
        start.elapsed(),
    ))
}

fn dns_match() -> Match {
    Match {
        ports: vec![53],
        protocols: vec![Protocol::Udp, Protocol::Tcp],
        ..Match::default()
    }
}

#[test]
fn dns_refuse_answers_matching_queries_and_passes_the_rest() {
    let Some(p) = pair() else { return };
    let server = Server::start(&p.b, 53, dns_answer);
    let sock = client(&p.a);
    let pattern = Some("*.example.com".to_string());
    let (engine, table) = shape(
        &p.a,
        "dns",
        Action::DnsError {
            refuse: true,
            pattern,
        },
        &dns_match(),
    );
    let blocked = resolve(&sock, "blocked.example.com", 1);
    let upper = resolve(&sock, "X.Example.COM.", 2);
    let ok = resolve(&sock, "ok.test", 3);
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!("dns refuse: blocked {blocked:?}, upper-case {upper:?}, ok {ok:?}; {stats:?}");
    let (rcode, answers, rtt) = blocked.expect("an answer to the blocked query");
    assert_eq!((rcode, answers), (5, 0));
    assert!(rtt < 50 * MS, "{rtt:?}");
    assert_eq!(upper.map(|(rcode, ..)| rcode), Some(5));
    assert_eq!(ok.map(|(rcode, answers, _)| (rcode, answers)), Some((0, 1)));
    assert_eq!(
        server.seen(),
        1,
        "only the unblocked query reached the server"
    );
    assert_eq!(stats.refused, 2);
}

#[test]
fn dns_without_refuse_drops_matching_queries() {
    let Some(p) = pair() else { return };
    let server = Server::start(&p.b, 53, dns_answer);
    let sock = client(&p.a);
    let action = Action::DnsError {
        refuse: false,
        pattern: Some("blocked.example.com".into()),
    };
    let (engine, table) = shape(&p.a, "dnsdrop", action, &dns_match());
    let blocked = resolve(&sock, "blocked.example.com", 1);
    let ok = resolve(&sock, "a.blocked.example.com", 2);
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    assert_eq!(blocked, None);
    assert_eq!(ok.map(|(rcode, ..)| rcode), Some(0));
    assert_eq!((server.seen(), stats.dropped), (1, 1));
}

#[test]
fn dns_refuse_works_over_ipv6() {
    let Some(p) = pair() else { return };
    let sock = p.b.run_in(|| UdpSocket::bind("[::]:53")).unwrap().unwrap();
    let server = Server::serve(sock, dns_answer);
    let client = p.a.run_in(|| UdpSocket::bind("[::]:0")).unwrap().unwrap();
    // Neighbour discovery on a fresh link may need a retransmission (1 s): warm it up first.
    client.set_read_timeout(Some(3000 * MS)).unwrap();
    let warm = resolve_at(&client, "[fd99::2]:53", "warm.example.com", 0);
    assert_eq!(warm.map(|(rcode, ..)| rcode), Some(0));
    client.set_read_timeout(Some(400 * MS)).unwrap();
    let pattern = Some("*.example.com".to_string());
    let action = Action::DnsError {
        refuse: true,
        pattern,
    };
    let (engine, table) = shape(&p.a, "dns6", action, &dns_match());
    let blocked = resolve_at(&client, "[fd99::2]:53", "blocked.example.com", 1);
    let ok = resolve_at(&client, "[fd99::2]:53", "ok.test", 2);
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!(
        "dns refuse over IPv6: blocked {blocked:?}, ok {ok:?}; server saw {}; {stats:?}",
        server.seen()
    );
    assert_eq!(
        blocked.map(|(rcode, answers, _)| (rcode, answers)),
        Some((5, 0))
    );
    assert_eq!(ok.map(|(rcode, answers, _)| (rcode, answers)), Some((0, 1)));
    assert_eq!(
        server.seen(),
        2,
        "the warm-up and the unblocked query reached the server"
    );
}

/// One DNS query over TCP: the answer's RCODE, or None if nothing came back in time.
fn resolve_tcp(ns: &NetNs, name: &str) -> Option<u8> {
    let addr: SocketAddr = "10.99.0.2:53".parse().unwrap();
    let stream = ns.run_in(|| TcpStream::connect_timeout(&addr, Duration::from_secs(1)));
    let mut stream = stream.unwrap().expect("the TCP handshake passes");
    stream.set_read_timeout(Some(500 * MS)).unwrap();
    let query = dns_query(7, name, 1);
    let framed = [&(query.len() as u16).to_be_bytes()[..], &query].concat();
    stream.write_all(&framed).unwrap();
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).ok()?;
    (n >= 6).then(|| answer[5] & 0x0f)
}

#[test]
fn dns_over_tcp_drops_matching_queries_only() {
    let Some(p) = pair() else { return };
    let listener =
        p.b.run_in(|| TcpListener::bind("10.99.0.2:53"))
            .unwrap()
            .unwrap();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            // A connection whose query was dropped must not hold up the next one.
            std::thread::spawn(move || {
                let mut buf = [0u8; 514];
                if let Ok(n) = conn.read(&mut buf)
                    && n > 2
                    && let Some(answer) = dns_answer(&buf[2..n])
                {
                    let framed = [&(answer.len() as u16).to_be_bytes()[..], &answer].concat();
                    let _ = conn.write_all(&framed);
                }
            });
        }
    });
    let pattern = Some("*.example.com".to_string());
    let action = Action::DnsError {
        refuse: true,
        pattern,
    };
    let (engine, table) = shape(&p.a, "dnstcp", action, &dns_match());
    let blocked = resolve_tcp(&p.a, "blocked.example.com");
    let ok = resolve_tcp(&p.a, "ok.test");
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!("dns over tcp: blocked {blocked:?}, ok {ok:?}; {stats:?}");
    assert_eq!(blocked, None);
    assert_eq!(ok, Some(0));
    assert!(stats.dropped >= 1 && stats.refused == 0, "{stats:?}");
}

#[test]
fn delay_on_ingress_adds_the_latency() {
    let Some(p) = pair() else { return };
    let _echo = Server::start(&p.b, 7, echo);
    let sock = client(&p.a);
    let m = Match {
        direction: Direction::Ingress,
        ..Match::default()
    };
    let (engine, table) = shape(&p.b, "ingress", delay(100), &m);
    let shaped = median_rtt(&sock, "10.99.0.2:7", 20);
    let stats = engine.stop();
    netfault::remove(&p.b, &table).unwrap();
    let after = median_rtt(&sock, "10.99.0.2:7", 10);
    println!("ingress: shaped {shaped:?}, after {after:?}; {stats:?}");
    assert!((100 * MS..=140 * MS).contains(&shaped), "{shaped:?}");
    assert!(after < 5 * MS, "{after:?}");
}

#[test]
fn stopping_under_load_loses_no_packet() {
    let Some(p) = pair() else { return };
    let sink = Server::start(&p.b, 9, |_| None);
    let sock = client(&p.a);
    let only_udp_9 = Match {
        ports: vec![9],
        protocols: vec![Protocol::Udp],
        ..Match::default()
    };
    let (engine, table) = shape(&p.a, "stop", delay(20), &only_udp_9);
    let sender = std::thread::spawn(move || {
        for i in 0..6000u32 {
            sock.send_to(&i.to_be_bytes(), "10.99.0.2:9").unwrap();
            if i % 10 == 0 {
                std::thread::sleep(MS / 2);
            }
        }
    });
    std::thread::sleep(150 * MS);
    let stats = engine.stop();
    sender.join().unwrap();
    std::thread::sleep(200 * MS);
    netfault::remove(&p.a, &table).unwrap();
    println!(
        "stop under load: receiver got {} of 6000; {stats:?}",
        sink.seen()
    );
    assert!(stats.delayed > 0, "{stats:?}");
    assert_eq!(sink.seen(), 6000);
}

/// The path of an executable named `name`, searched in PATH and the usual sbin directories.
fn find_binary(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(Into::into))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs a command in the network namespace of `pid`, with `input` on its stdin; Err(stderr).
fn try_sh(pid: u32, args: &[&std::ffi::OsStr], input: &str) -> Result<(), String> {
    let ns = format!("--net=/proc/{pid}/ns/net");
    let mut child = Command::new("nsenter")
        .arg(ns)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let fed = child
        .stdin
        .take()
        .map(|mut s| s.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    match (out.status.success(), fed) {
        (true, None | Some(Ok(()))) => Ok(()),
        _ => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
    }
}

/// Adds, in the namespace of `pid`, a nat OUTPUT REDIRECT of TCP and UDP to 10.99.0.2:`port`
/// to the same port on 127.0.0.1, as a sidecar proxy's rules do, with the `nft` binary or else
/// `iptables`. Returns the tool used (and why nft was not), or Err saying why neither could.
fn redirect_to_localhost(pid: u32, port: u16) -> Result<String, String> {
    let mut errors = Vec::new();
    if let Some(nft) = find_binary("nft") {
        let rules = format!(
            "table ip sidecar_test {{\n chain out {{\n  type nat hook output priority -100;\n  \
             ip daddr 10.99.0.2 meta l4proto {{ tcp, udp }} th dport {port} redirect\n }}\n}}\n"
        );
        match try_sh(pid, &[nft.as_os_str(), "-f".as_ref(), "-".as_ref()], &rules) {
            Ok(()) => return Ok("nft".into()),
            Err(e) => errors.push(format!("nft: {e}")),
        }
    } else {
        errors.push("no nft binary".into());
    }
    if let Some(iptables) = find_binary("iptables") {
        let port = port.to_string();
        let added = ["tcp", "udp"].iter().try_for_each(|proto| {
            let args = [
                "-t",
                "nat",
                "-A",
                "OUTPUT",
                "-d",
                "10.99.0.2",
                "-p",
                proto,
                "--dport",
                &port,
                "-j",
                "REDIRECT",
            ];
            let args: Vec<&std::ffi::OsStr> = std::iter::once(iptables.as_os_str())
                .chain(args.iter().map(|a| a.as_ref()))
                .collect();
            try_sh(pid, &args, "")
        });
        match added {
            Ok(()) => return Ok(format!("iptables; {}", errors.join("; "))),
            Err(e) => errors.push(format!("iptables: {e}")),
        }
    } else {
        errors.push("no iptables binary".into());
    }
    Err(errors.join("; "))
}

/// Connects to `to` from `ns`, sends 8 bytes and reads them back: the time for all of it.
fn tcp_round_trip(ns: &NetNs, to: &str) -> Duration {
    let addr: SocketAddr = to.parse().unwrap();
    let start = Instant::now();
    let stream = ns.run_in(|| TcpStream::connect_timeout(&addr, Duration::from_secs(2)));
    let mut stream = stream.unwrap().expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream.write_all(b"sidecar!").unwrap();
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).expect("the echo");
    assert_eq!(&buf, b"sidecar!");
    start.elapsed()
}

/// A sidecar proxy's REDIRECT to localhost (as Istio installs) must not be shaped: on the output
/// hook `meta oif` still names the device routed before NAT, so only the destination address
/// tells a redirected packet apart. Its real upstream traffic stays shaped.
#[test]
fn a_redirect_to_localhost_is_not_shaped() {
    let Some(p) = pair() else { return };
    let _peer_echo = Server::start(&p.b, 7, echo);
    let local_udp = p.a.run_in(|| UdpSocket::bind("127.0.0.1:7777"));
    let _proxy_udp = Server::serve(local_udp.unwrap().unwrap(), echo);
    let local_tcp = p.a.run_in(|| TcpListener::bind("127.0.0.1:7777"));
    let local_tcp = local_tcp.unwrap().unwrap();
    std::thread::spawn(move || {
        for mut conn in local_tcp.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                while let Ok(n @ 1..) = conn.read(&mut buf) {
                    if conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let tool = match redirect_to_localhost(p.pid_a, 7777) {
        Ok(tool) => tool,
        Err(why) => {
            println!("SKIPPED: cannot add a nat REDIRECT in the scratch namespace: {why}");
            return;
        }
    };
    let sock = client(&p.a);
    let plain_udp = median_rtt(&sock, "10.99.0.2:7777", 5);
    let plain_tcp = tcp_round_trip(&p.a, "10.99.0.2:7777");
    let (engine, table) = shape(&p.a, "sidecar", delay(100), &Match::default());
    let udp = median_rtt(&sock, "10.99.0.2:7777", 10);
    let tcp = tcp_round_trip(&p.a, "10.99.0.2:7777");
    let upstream = median_rtt(&sock, "10.99.0.2:7", 5);
    assert!(engine.healthy());
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!(
        "redirect ({tool}): unshaped udp {plain_udp:?} tcp {plain_tcp:?}; shaped udp {udp:?}, \
         tcp connect+echo {tcp:?}, real peer {upstream:?}; {stats:?}"
    );
    assert!(
        udp < 50 * MS,
        "the redirected UDP round trip was delayed: {udp:?}"
    );
    assert!(
        tcp < 50 * MS,
        "the redirected TCP round trip was delayed: {tcp:?}"
    );
    assert!(
        upstream >= 100 * MS,
        "the real peer is still shaped: {upstream:?}"
    );
}

/// How many packets per second the engine decides: a UDP flood through Delay 0. Run with
/// `cargo test --release --test netfault_ns bench_engine_pps -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_engine_pps() {
    let Some(p) = pair() else { return };
    let sink = Server::start(&p.b, 9, |_| None);
    let (engine, table) = shape(&p.a, "bench", delay(0), &Match::default());
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..2)
        .map(|_| {
            let (sock, stop) = (client(&p.a), stop.clone());
            std::thread::spawn(move || {
                let mut sent = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    sent += u64::from(sock.send_to(&[0u8; 64], "10.99.0.2:9").is_ok());
                }
                sent
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let sent: u64 = senders.into_iter().map(|t| t.join().unwrap()).sum();
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(100 * MS);
    let stats = engine.stop();
    netfault::remove(&p.a, &table).unwrap();
    println!(
        "engine: {:.0} packets/s decided ({} of {} sent; the rest failed open); receiver got {:.0}/s; {stats:?}",
        stats.packets as f64 / secs,
        stats.packets,
        sent,
        sink.seen() as f64 / secs
    );
    assert!(stats.packets > 0);
}
