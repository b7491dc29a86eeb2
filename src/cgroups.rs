//! A container's cgroups on its node, found by container ID on the node's own cgroup file
//! systems: the directory whose name is the ID, never a path built from a driver's naming
//! scheme. cgroup v1 (each hierarchy), v2, and hybrid nodes alike. A host-PID fault pod reaches
//! the node's file systems through `/proc/<pid>/root` of a process in the node's mount namespace
//! (the container's shim; CAP_SYS_PTRACE). The decisions are pure functions in
//! [`crate::domain::containers`].

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use crate::domain::containers::{CgroupMount, accounting_mounts, cgroup_mounts, leaf_is_container};

/// At most this many directories are visited per hierarchy while looking for a container.
const WALK_LIMIT: usize = 100_000;

/// One of a container's cgroup directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupDir {
    pub path: PathBuf,
    pub v2: bool,
    pub controllers: Vec<String>,
}

/// How this process sees the node's file systems and cgroup namespace: its own (on the node
/// itself), or through a process of the node's (from a host-PID pod).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeView {
    Own,
    Through(u32),
}

impl NodeView {
    fn proc(&self) -> PathBuf {
        match self {
            NodeView::Own => PathBuf::from("/proc/self"),
            NodeView::Through(pid) => PathBuf::from(format!("/proc/{pid}")),
        }
    }

    /// The node's root directory.
    pub fn root(&self) -> PathBuf {
        match self {
            NodeView::Own => PathBuf::from("/"),
            NodeView::Through(_) => self.proc().join("root"),
        }
    }

    /// The node's cgroup namespace file, to enter before joining a cgroup (v2).
    pub fn cgroup_namespace(&self) -> PathBuf {
        self.proc().join("ns/cgroup")
    }

    /// The node's cgroup mounts, with their mount points under [`NodeView::root`].
    pub fn mounts(&self) -> io::Result<Vec<CgroupMount>> {
        let table = fs::read_to_string(self.proc().join("mountinfo"))?;
        let root = self.root();
        Ok(cgroup_mounts(&table)
            .into_iter()
            .map(|mut m| {
                m.mount_point = under(&root, &m.mount_point).display().to_string();
                m
            })
            .collect())
    }
}

fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// The directories of container `id` in every hierarchy a process joins to be limited and
/// accounted as the container's; empty when the container has none on this node.
pub fn find(mounts: &[CgroupMount], id: &str) -> io::Result<Vec<CgroupDir>> {
    let mut found = Vec::new();
    for mount in accounting_mounts(mounts) {
        if let Some(path) = walk(Path::new(&mount.mount_point), id)? {
            found.push(CgroupDir {
                path,
                v2: mount.v2,
                controllers: mount.controllers.clone(),
            });
        }
    }
    Ok(found)
}

/// The directory under `top` named for container `id`, breadth first.
fn walk(top: &Path, id: &str) -> io::Result<Option<PathBuf>> {
    let mut queue = std::collections::VecDeque::from([top.to_path_buf()]);
    let mut visited = 0;
    while let Some(dir) = queue.pop_front() {
        visited += 1;
        if visited > WALK_LIMIT {
            return Err(io::Error::other(format!(
                "more than {WALK_LIMIT} cgroups under {}: gave up looking for container {id}",
                top.display()
            )));
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            // The hierarchy itself must be readable: else "not found" would hide the reason.
            Err(e) if dir == top => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("reading {}: {e} (CAP_SYS_PTRACE is needed)", top.display()),
                ));
            }
            Err(_) => continue, // removed while walking
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = entry.file_name();
            if leaf_is_container(&name.to_string_lossy(), id) {
                return Ok(Some(entry.path()));
            }
            queue.push_back(entry.path());
        }
    }
    Ok(None)
}

impl CgroupDir {
    /// The processes in this cgroup (PIDs as this process's PID namespace sees them).
    pub fn procs(&self) -> io::Result<Vec<u32>> {
        Ok(fs::read_to_string(self.path.join("cgroup.procs"))?
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect())
    }

    fn has(&self, controller: &str) -> bool {
        self.v2 || self.controllers.iter().any(|c| c == controller)
    }

    /// CPU time used by the cgroup so far, in nanoseconds (v1 `cpuacct.usage`, v2 `cpu.stat`).
    pub fn cpu_usage_ns(&self) -> Option<u64> {
        if self.v2 {
            let stat = fs::read_to_string(self.path.join("cpu.stat")).ok()?;
            let usec = stat
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))?
                .trim()
                .parse::<u64>()
                .ok()?;
            return Some(usec * 1000);
        }
        if !self.has("cpuacct") {
            return None;
        }
        read_u64(&self.path.join("cpuacct.usage"))
    }

    /// Memory charged to the cgroup now, in bytes (v1 `memory.usage_in_bytes`, v2
    /// `memory.current`).
    pub fn memory_bytes(&self) -> Option<u64> {
        if self.v2 {
            return read_u64(&self.path.join("memory.current"));
        }
        if !self.has("memory") {
            return None;
        }
        read_u64(&self.path.join("memory.usage_in_bytes"))
    }

    /// Bytes read and written to block devices by the cgroup's processes so far (v1
    /// `blkio.throttle.io_service_bytes`, v2 `io.stat`).
    pub fn io_bytes(&self) -> Option<u64> {
        if self.v2 {
            let stat = fs::read_to_string(self.path.join("io.stat")).ok()?;
            return Some(crate::domain::containers::io_stat_bytes(&stat));
        }
        if !self.has("blkio") {
            return None;
        }
        let stat = fs::read_to_string(self.path.join("blkio.throttle.io_service_bytes")).ok()?;
        Some(crate::domain::containers::blkio_total_bytes(&stat))
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Moves the calling process (all its threads) into `dirs`, by writing 0 to each
/// `cgroup.procs`: what it allocates and burns from then on is charged to them, under their
/// limits.
pub fn join(dirs: &[PathBuf]) -> io::Result<()> {
    for dir in dirs {
        fs::write(dir.join("cgroup.procs"), "0").map_err(|e| {
            io::Error::new(e.kind(), format!("joining cgroup {}: {e}", dir.display()))
        })?;
    }
    Ok(())
}

/// Enters the cgroup namespace `namespace` (a `/proc/<pid>/ns/cgroup` of the node's) when this
/// process is in another one (cgroup v2 gives every container its own): with `nsdelegate`, a
/// process may only move into a cgroup its namespace contains. Needs CAP_SYS_ADMIN and
/// CAP_SYS_PTRACE.
pub fn enter_cgroup_namespace(namespace: &Path) -> io::Result<()> {
    let own = fs::read_link("/proc/self/ns/cgroup")?;
    let node = fs::read_link(namespace)?;
    if own == node {
        return Ok(());
    }
    let file = fs::File::open(namespace)?;
    // SAFETY: a valid namespace file descriptor; setns affects this thread and its children.
    if unsafe {
        libc::setns(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::CLONE_NEWCGROUP,
        )
    } != 0
    {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("entering the node's cgroup namespace: {e} (CAP_SYS_ADMIN is needed)"),
        ));
    }
    Ok(())
}
