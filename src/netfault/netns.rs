//! Finding a pod's network namespace from the node (through /proc, which needs hostPID) and
//! running code inside it on a thread of its own.

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
    /// The network namespace of the pod with this UID, found through /proc/<pid>/cgroup lines
    /// containing "pod<uid>" (cgroupfs driver) or "pod<uid with '_' for '-'>" (systemd driver).
    /// Needs hostPID, and CAP_SYS_PTRACE to open the namespace of a process of another user.
    /// Err(PodNotFound) if no process matches; Err(HostNetwork) if the pod's namespace is the
    /// node's (see [`host_netns`]).
    pub fn of_pod(uid: &str) -> Result<NetNs, NetError> {
        let needles = [format!("pod{uid}"), format!("pod{}", uid.replace('-', "_"))];
        let mut refused = None;
        for pid in pids()? {
            let Ok(cgroups) = fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
                continue;
            };
            if !needles.iter().any(|n| cgroups.contains(n.as_str())) {
                continue;
            }
            // A process may exit between the two reads: try the next one.
            match NetNs::open(Path::new(&format!("/proc/{pid}/ns/net"))) {
                Ok(ns) => return ns.unless_host(uid),
                Err(NetError::Io(e)) if e.kind() == io::ErrorKind::PermissionDenied => {
                    refused = Some(e);
                }
                Err(_) => {}
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

    fn unless_host(self, uid: &str) -> Result<NetNs, NetError> {
        let own = self.metadata()?;
        if (own.dev(), own.ino()) == host_netns()? {
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

/// The (device, inode) of the node's network namespace: init's, or, where init's cannot be
/// read (some sandboxes deny it even to root), that of the kubelet or the container runtime,
/// which always run in the node's network namespace.
fn host_netns() -> Result<(u64, u64), NetError> {
    let init = match fs::metadata("/proc/1/ns/net") {
        Ok(m) => return Ok((m.dev(), m.ino())),
        Err(e) => e,
    };
    let node_daemons = ["kubelet", "containerd", "crio", "dockerd"];
    for pid in pids()? {
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

fn pids() -> io::Result<Vec<u32>> {
    Ok(fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}
