//! Finding a pod's network namespace from the node (through /proc, which needs hostPID) and
//! running code inside it on a thread of its own.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::NetError;

/// An open handle on a network namespace (a file descriptor on an nsfs file): the namespace
/// stays alive while the handle does, even if its processes exit.
#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
}

impl NetNs {
    /// The network namespace of the pod with this UID. The pod's processes are those whose
    /// /proc/<pid>/cgroup contains "pod<uid>" (cgroupfs driver) or "pod<uid with '_' for '-'>"
    /// (systemd driver); of their network namespaces, the one most of them share is the pod's
    /// (see [`pick`]), so a process that made a namespace of its own (a browser sandbox,
    /// Docker-in-Docker) is not taken for the pod. Needs hostPID, and CAP_SYS_PTRACE to see the
    /// namespace of a process of another user. Err(EmptyPodUid) for an empty UID (every pod's
    /// cgroup would match); Err(PodNotFound) if no process matches; Err(HostNetwork) if the
    /// pod's namespace is the node's (see [`host_netns`]).
    pub fn of_pod(uid: &str) -> Result<NetNs, NetError> {
        if uid.trim().is_empty() {
            return Err(NetError::EmptyPodUid);
        }
        let needles = [format!("pod{uid}"), format!("pod{}", uid.replace('-', "_"))];
        let mut refused = None;
        // Processes may exit between the scan and the open: then scan again.
        for _ in 0..3 {
            let mut seen = Vec::new();
            for pid in crate::nodeproc::pids()? {
                let Ok(cgroups) = fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
                    continue;
                };
                if !needles.iter().any(|n| cgroups.contains(n.as_str())) {
                    continue;
                }
                match fs::metadata(format!("/proc/{pid}/ns/net")) {
                    Ok(m) => seen.push((pid, (m.dev(), m.ino()))),
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => refused = Some(e),
                    Err(_) => {}
                }
            }
            let Some(chosen) = pick(&seen) else {
                break;
            };
            let mut members: Vec<u32> = seen
                .iter()
                .filter(|(_, ns)| *ns == chosen)
                .map(|(pid, _)| *pid)
                .collect();
            members.sort_unstable();
            for pid in members {
                match NetNs::open(Path::new(&format!("/proc/{pid}/ns/net"))) {
                    // The PID may have been reused by now: only the namespace counted will do.
                    Ok(ns) if ns.id()? == chosen => return ns.unless_host(uid),
                    Err(NetError::Io(e)) if e.kind() == io::ErrorKind::PermissionDenied => {
                        refused = Some(e);
                    }
                    _ => {}
                }
            }
        }
        match refused {
            Some(e) => Err(NetError::Io(io::Error::new(
                e.kind(),
                format!("opening pod {uid}'s network namespace: {e} (CAP_SYS_PTRACE is needed)"),
            ))),
            None => Err(NetError::PodNotFound(uid.to_string())),
        }
    }

    /// The namespace's identity: the (device, inode) of its nsfs file.
    fn id(&self) -> io::Result<NsId> {
        let m = self.metadata()?;
        Ok((m.dev(), m.ino()))
    }

    fn unless_host(self, uid: &str) -> Result<NetNs, NetError> {
        if self.id()? == host_netns()? {
            return Err(NetError::HostNetwork(uid.to_string()));
        }
        Ok(self)
    }

    /// Opens a network namespace from a path such as /proc/<pid>/ns/net.
    pub fn open(path: &Path) -> Result<NetNs, NetError> {
        let file = File::open(path)?;
        // NS_GET_NSTYPE tells a namespace file of the right type from anything else.
        let kind = unsafe { libc::ioctl(file.as_raw_fd(), libc::NS_GET_NSTYPE) };
        if kind != libc::CLONE_NEWNET {
            return Err(NetError::NotNetNs(path.display().to_string()));
        }
        Ok(NetNs { fd: file.into() })
    }

    /// Runs `f` on a fresh OS thread that has entered this namespace (setns affects one thread
    /// only) and returns its result; sockets created inside stay bound to this namespace
    /// afterwards, wherever they are used. A panic in `f` is passed on to the caller.
    pub fn run_in<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, NetError> {
        let fd = self.fd.as_raw_fd();
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("faultline-netns".into())
                .spawn_scoped(scope, move || {
                    // SAFETY: fd is a namespace file descriptor that outlives this thread.
                    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                        let e = io::Error::last_os_error();
                        let hint = match e.kind() {
                            io::ErrorKind::PermissionDenied => " (CAP_SYS_ADMIN is needed)",
                            _ => "",
                        };
                        let text = format!("entering the network namespace: {e}{hint}");
                        return Err(io::Error::new(e.kind(), text));
                    }
                    Ok(f())
                })?;
            match thread.join() {
                Ok(result) => result.map_err(NetError::from),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// The namespace file's metadata; (dev, ino) identifies the namespace.
    pub fn metadata(&self) -> io::Result<fs::Metadata> {
        File::from(self.fd.try_clone()?).metadata()
    }
}

/// A network namespace's identity: the (device, inode) of its nsfs file.
type NsId = (u64, u64);

/// The pod's namespace among its processes' (pid, namespace): the one shared by the most
/// processes; on a tie, the one holding the lowest PID (normally the sandbox's pause process,
/// the pod's first). None when there is no process.
fn pick(namespaces: &[(u32, NsId)]) -> Option<NsId> {
    let mut tally: HashMap<NsId, (usize, u32)> = HashMap::new();
    for &(pid, ns) in namespaces {
        let (count, lowest) = tally.entry(ns).or_insert((0, u32::MAX));
        *count += 1;
        *lowest = (*lowest).min(pid);
    }
    tally
        .into_iter()
        .max_by(|(_, (n1, pid1)), (_, (n2, pid2))| n1.cmp(n2).then(pid2.cmp(pid1)))
        .map(|(ns, _)| ns)
}

/// The (device, inode) of the node's network namespace: init's, or, where init's cannot be
/// read (some sandboxes deny it even to root), that of the kubelet or the container runtime,
/// which always run in the node's network namespace.
fn host_netns() -> Result<NsId, NetError> {
    let init = match fs::metadata("/proc/1/ns/net") {
        Ok(m) => return Ok((m.dev(), m.ino())),
        Err(e) => e,
    };
    let node_daemons = ["kubelet", "containerd", "crio", "dockerd"];
    for pid in crate::nodeproc::pids()? {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if node_daemons.contains(&comm.trim_end())
            && let Ok(m) = fs::metadata(format!("/proc/{pid}/ns/net"))
        {
            return Ok((m.dev(), m.ino()));
        }
    }
    let text = format!("cannot tell the node's network namespace: /proc/1/ns/net: {init}");
    Err(NetError::Io(io::Error::new(init.kind(), text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: NsId = (4, 4026532300);
    const INNER: NsId = (4, 4026532400);
    const OTHER: NsId = (4, 4026532500);

    #[test]
    fn the_namespace_most_processes_share_is_the_pods() {
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[(42, POD)]), Some(POD));
        // pause and the app share the pod's namespace; a sandboxed child made its own. Whatever
        // order /proc lists them in (the old choice was whichever came first).
        let mut procs = vec![
            (900, INNER),
            (100, POD),
            (120, POD),
            (130, POD),
            (901, INNER),
        ];
        for _ in 0..procs.len() {
            assert_eq!(pick(&procs), Some(POD), "{procs:?}");
            procs.rotate_left(1);
        }
        // Two sandboxes of one process each, with a lower PID than the pod's others: still the pod's.
        let nested = [(50, INNER), (60, OTHER), (100, POD), (101, POD)];
        assert_eq!(pick(&nested), Some(POD));
    }

    #[test]
    fn a_tie_goes_to_the_namespace_of_the_lowest_pid() {
        let tie = [(300, INNER), (200, POD), (100, POD), (150, INNER)];
        assert_eq!(pick(&tie), Some(POD));
        let reversed: Vec<_> = tie.iter().rev().copied().collect();
        assert_eq!(pick(&reversed), Some(POD));
        assert_eq!(pick(&[(7, OTHER), (5, INNER), (9, POD)]), Some(INNER));
    }

    #[test]
    fn an_empty_uid_is_refused_since_it_would_match_every_pod() {
        for uid in ["", " "] {
            let found = NetNs::of_pod(uid);
            assert!(matches!(found, Err(NetError::EmptyPodUid)), "{found:?}");
        }
    }
}
