//! The load of the resource faults (pod-cpu-hog, pod-memory-hog, pod-io-stress): a hog process, `faultline
//! hog`, that the fault process starts, that moves itself into the target container's cgroups
//! (so the container's own limits and accounting apply to it), and that cannot outlive the fault
//! process:
//!
//! - it is started with a parent-death signal (SIGKILL), checked after it is set;
//! - the fault process runs as PID 1 of a PID namespace of its own ([`in_own_pid_namespace`]),
//!   and the kernel kills every process of a PID namespace when its first process dies, in
//!   whatever cgroup they are.
//!
//! A hog is told from the container's own processes by its command line: `faultline-hog --tag
//! <namespace>/<result>/<fault>`.

use std::{
    ffi::OsString,
    io::{self, BufRead, BufReader},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use crate::cgroups::{self, CgroupDir, NodeView};

/// The name a hog process runs under (its argv[0]).
pub const ARG0: &str = "faultline-hog";

/// Set in the environment of a fault process that already runs in its own PID namespace.
const PID_NAMESPACE_ENV: &str = "FAULTLINE_OWN_PID_NAMESPACE";

/// What a hog burns or fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Load {
    /// Burns this many millicores, on as many threads as whole cores it spans.
    Cpu { millicores: u32 },
    /// Fills and holds this many bytes of anonymous memory.
    Memory { bytes: u64 },
    /// Writes, syncs and reads back `files` of `bytes` each in directory `dir` of the container
    /// whose root is `root` (`/proc/<pid>/root`), one thread per file ([`crate::iostress`]).
    Io {
        root: PathBuf,
        dir: String,
        files: Vec<String>,
        bytes: u64,
    },
}

impl Load {
    fn args(&self) -> Vec<String> {
        match self {
            Load::Cpu { millicores } => vec!["--millicores".into(), millicores.to_string()],
            Load::Memory { bytes } => vec!["--bytes".into(), bytes.to_string()],
            Load::Io {
                root,
                dir,
                files,
                bytes,
            } => {
                let mut args = vec![
                    "--io-root".into(),
                    root.display().to_string(),
                    "--io-dir".into(),
                    dir.clone(),
                    "--io-bytes".into(),
                    bytes.to_string(),
                ];
                for file in files {
                    args.push("--io-file".into());
                    args.push(file.clone());
                }
                args
            }
        }
    }
}

/// A running hog, started by [`spawn`].
#[derive(Debug)]
pub struct Hog {
    child: Child,
    pub started: Instant,
}

/// Starts a hog for `tag` from the `faultline` binary `exe` (in a fault pod, /proc/self/exe)
/// that joins `dirs` and carries `load`, and waits until it has joined them (and, for memory,
/// filled it). It blocks: call it off the async runtime's workers.
pub fn spawn(
    exe: &Path,
    tag: &str,
    view: &NodeView,
    dirs: &[CgroupDir],
    load: Load,
    ready_within: Duration,
) -> io::Result<Hog> {
    let mut args: Vec<String> = vec!["hog".into(), "--tag".into(), tag.into()];
    args.push("--cgroup-namespace".into());
    args.push(view.cgroup_namespace().display().to_string());
    for dir in dirs {
        args.push("--cgroup".into());
        args.push(dir.path.display().to_string());
    }
    args.extend(load.args());
    let mut command = Command::new(exe);
    command
        .arg0(ARG0)
        .args(&args)
        .env_remove(PID_NAMESPACE_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = on_keeper(move || spawn_dying_with_parent(command, false))?;
    let started = Instant::now();
    match await_ready(&mut child, ready_within) {
        Ok(()) => Ok(Hog { child, started }),
        Err(err) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(err)
        }
    }
}

/// Spawns `command` with a parent-death signal (SIGKILL), checked once armed. The first
/// process of a new PID namespace (`first_in_namespace`) sees its parent as PID 0.
fn spawn_dying_with_parent(mut command: Command, first_in_namespace: bool) -> io::Result<Child> {
    let parent = if first_in_namespace {
        0
    } else {
        // SAFETY: getpid has no preconditions.
        unsafe { libc::getpid() }
    };
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the signal was armed.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on the keeper: one thread that lives as long as the process. A parent-death
/// signal follows the thread that forked, not the process, so hogs are forked there and never
/// from a pool thread that may exit while they run.
fn on_keeper<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    static KEEPER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("faultline-hog-keeper".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
                // The sender is static: the loop never ends while the process runs.
                loop {
                    std::thread::park();
                }
            })
            .expect("the keeper thread starts");
        std::sync::Mutex::new(tx)
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    keeper
        .lock()
        .expect("keeper lock")
        .send(job)
        .expect("the keeper runs");
    rx.recv().expect("the keeper answers")
}

/// Reads the hog's first line: "ready", or why it could not start (its stderr).
fn await_ready(child: &mut Child, within: Duration) -> io::Result<()> {
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(read.map(|_| line));
    });
    let why = |stderr| {
        let mut text = String::new();
        let _ = io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text.trim().to_string()
    };
    match rx.recv_timeout(within) {
        Ok(Ok(line)) if line.trim() == "ready" => Ok(()),
        Ok(_) => {
            let how = child.wait().map(ended).unwrap_or_default();
            Err(io::Error::other(format!(
                "the hog did not start: {how}: {}",
                why(stderr)
            )))
        }
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the hog was not ready within {} s", within.as_secs()),
        )),
    }
}

impl Hog {
    /// The hog's PID (in this process's PID namespace).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it still runs; Err says how it ended (e.g. OOM-killed: signal 9).
    pub fn check(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(ended(status)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Kills it and waits until it is gone. Returns how long it ran.
    pub fn stop(mut self) -> io::Result<Duration> {
        let ran = self.started.elapsed();
        match self.child.kill() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {} // already reaped
            Err(e) => return Err(e),
        }
        self.child.wait()?;
        Ok(ran)
    }
}

fn ended(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGKILL) => "it was killed (SIGKILL: the OOM killer, or a person)".into(),
        Some(signal) => format!("it was killed by signal {signal}"),
        None => format!("it exited with {status}"),
    }
}

/// The hog process itself (`faultline hog`): enters `cgroup_namespace` (the node's) if needed,
/// offers itself to the OOM killer first, joins `cgroups`, says "ready" and carries `load` until
/// it is killed.
pub fn hog_main(cgroup_namespace: &Path, cgroups: Vec<PathBuf>, load: Load) -> ExitCode {
    let fail = |what: &str, e: io::Error| {
        eprintln!("{what}: {e}");
        ExitCode::FAILURE
    };
    if let Err(e) = cgroups::enter_cgroup_namespace(cgroup_namespace) {
        return fail("cgroup namespace", e);
    }
    // The OOM killer picks the hog before the container's own processes.
    if let Err(e) = std::fs::write("/proc/self/oom_score_adj", "1000") {
        return fail("oom_score_adj", e);
    }
    if let Err(e) = cgroups::join(&cgroups) {
        return fail("cgroups", e);
    }
    match load {
        Load::Cpu { millicores } => {
            println!("ready");
            burn(millicores)
        }
        Load::Io {
            root,
            dir,
            files,
            bytes,
        } => match stress_io(&root, &dir, &files, bytes) {
            Ok(never) => match never {},
            Err(e) => fail("io", e),
        },
        Load::Memory { bytes } => {
            let held = fill(bytes);
            println!("ready");
            std::hint::black_box(&held);
            loop {
                std::thread::park();
            }
        }
    }
}

/// Creates `files` of `bytes` each in `dir` under `root`, if they fit in half the free space,
/// says "ready" and stresses them on one thread each until killed; Err when they cannot start.
fn stress_io(
    root: &Path,
    dir: &str,
    files: &[String],
    bytes: u64,
) -> io::Result<std::convert::Infallible> {
    let dir_fd = crate::iostress::open_dir(root, dir)?;
    let total = bytes.saturating_mul(files.len() as u64);
    crate::domain::io_stress::io_fits(total, crate::iostress::available(&dir_fd)?)
        .map_err(io::Error::other)?;
    let mut opened = Vec::new();
    for name in files {
        let (file, direct) = crate::iostress::create(&dir_fd, name)?;
        // The space is taken before "ready": a disk that cannot hold the files fails the start.
        crate::iostress::reserve(&file, bytes)?;
        // Only the open handle keeps the file: the kernel frees it when the hog ends, however it
        // ends (its fault pod lost, the container replaced), with nothing left to remove.
        crate::iostress::remove(&dir_fd, name)?;
        opened.push((file, direct));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    for (file, direct) in opened {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let Err(e) = crate::iostress::stress(&file, bytes, direct);
            let _ = tx.send(e);
        });
    }
    println!("ready");
    // A worker that fails (the disk filled up, the directory went away) ends the hog, so the
    // fault sees it end instead of reporting a load it no longer makes.
    match rx.recv() {
        Ok(e) => Err(e),
        Err(_) => Err(io::Error::other("every worker ended")),
    }
}

/// Burns `millicores` until killed: one thread per started core, each busy for its share of
/// every 100 ms.
fn burn(millicores: u32) -> ! {
    let threads = millicores.div_ceil(1000).max(1);
    let share = f64::from(millicores) / f64::from(threads * 1000);
    let period = Duration::from_millis(100);
    let busy = period.mul_f64(share.min(1.0));
    for _ in 1..threads {
        std::thread::spawn(move || spin(period, busy));
    }
    spin(period, busy)
}

fn spin(period: Duration, busy: Duration) -> ! {
    loop {
        let start = Instant::now();
        while start.elapsed() < busy {
            std::hint::spin_loop();
        }
        if let Some(rest) = period.checked_sub(start.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

/// Allocates `bytes` and writes every page, so each is really charged to the cgroup.
fn fill(bytes: u64) -> Vec<u8> {
    let len = usize::try_from(bytes).unwrap_or(usize::MAX);
    // Zeroed pages are mapped lazily: writing one byte of each makes it real.
    let mut held = vec![0u8; len];
    for page in held.chunks_mut(4096) {
        page[0] = 0xA5;
    }
    held
}

/// Runs the rest of this command as PID 1 of a new PID namespace: re-executes it in a child
/// that the kernel makes the namespace's first process, forwards SIGTERM to it, and exits with
/// its status. None when this process already is that child. Every process the child starts is
/// in its namespace, and dies with it even if it moved to another cgroup. Needs CAP_SYS_ADMIN.
pub fn in_own_pid_namespace() -> Option<ExitCode> {
    if std::env::var_os(PID_NAMESPACE_ENV).is_some() {
        return None;
    }
    // SAFETY: unshare(CLONE_NEWPID) only changes the namespace of this thread's next children.
    if unsafe { libc::unshare(libc::CLONE_NEWPID) } != 0 {
        eprintln!(
            "cannot create a PID namespace for the hog: {} (CAP_SYS_ADMIN is needed)",
            io::Error::last_os_error()
        );
        return Some(ExitCode::FAILURE);
    }
    catch_sigterm();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = Command::new("/proc/self/exe");
    command.args(args).env(PID_NAMESPACE_ENV, "1");
    let mut child = match spawn_dying_with_parent(command, true) {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start the fault in its PID namespace: {e}");
            return Some(ExitCode::FAILURE);
        }
    };
    let status = wait_forwarding_sigterm(&mut child);
    Some(ExitCode::from(u8::try_from(status).unwrap_or(1)))
}

/// Set by [`note_sigterm`]: the kubelet asked the fault pod to stop.
static TERMINATING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn note_sigterm(_: libc::c_int) {
    TERMINATING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Notes SIGTERM instead of dying of it (a signal handler: after unshare(CLONE_NEWPID) this
/// process may start no thread, as clone refuses CLONE_THREAD).
fn catch_sigterm() {
    // SAFETY: a zeroed sigaction whose handler only stores to an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = note_sigterm as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

/// Waits for `child` and returns its exit code, passing SIGTERM on to it once a second while
/// it runs: the first process of a PID namespace ignores a signal it has no handler for yet,
/// so one forwarded too early would be lost.
fn wait_forwarding_sigterm(child: &mut Child) -> i32 {
    let mut last_sent: Option<Instant> = None;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.code().unwrap_or(1),
            Ok(None) => {}
            Err(_) => return 1,
        }
        if TERMINATING.load(std::sync::atomic::Ordering::Relaxed)
            && last_sent.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            // SAFETY: kill takes plain integers.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            last_sent = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether this process runs in the PID namespace [`in_own_pid_namespace`] made (where PIDs
/// read from the host's /proc mean other processes).
pub fn in_pid_namespace() -> bool {
    std::env::var_os(PID_NAMESPACE_ENV).is_some()
}

/// The PIDs of `tag`'s hogs among `pids`, read from /proc (host PIDs with a host-PID /proc).
pub fn hogs_of(tag: &str, pids: &[u32]) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
                args.first() == Some(&ARG0.as_bytes())
                    && args
                        .windows(2)
                        .any(|w| w[0] == b"--tag" && w[1] == tag.as_bytes())
            })
        })
        .collect()
}
