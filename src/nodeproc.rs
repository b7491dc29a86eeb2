//! A container's processes as its node sees them, found through /proc (which needs the host PID
//! namespace) by the container ID its pod's status gives, never through the runtime's socket:
//! a process belongs to the container when a path in its `/proc/<pid>/cgroup` ends in the ID.
//! The decisions are pure functions in [`crate::domain::containers`].

use std::{fs, io};

use crate::domain::containers::{cgroup_lines, in_container, main_process};

/// The processes of one container on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerProcs {
    /// Every process of the container (host PIDs).
    pub pids: Vec<u32>,
    /// Its main process: the one the runtime started (see [`main_process`]).
    pub main: u32,
    /// The main process's parent: the runtime's shim, which lives in the node's own mount and
    /// cgroup namespaces (how a host-PID pod reaches the node's cgroup file systems).
    pub shim: u32,
}

/// The processes of container `id`, or None when no process on this node runs in it (the
/// container has exited, or runs on another node).
pub fn find(id: &str) -> io::Result<Option<ContainerProcs>> {
    let mut found = Vec::new();
    for pid in pids()? {
        // A process may exit during the scan: skip what cannot be read.
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            continue;
        };
        if !in_container(&cgroup_lines(&text), id) {
            continue;
        }
        let Some((parent, started)) = parent_and_start(pid) else {
            continue;
        };
        found.push((pid, parent, started));
    }
    let Some(main) = main_process(&found) else {
        return Ok(None);
    };
    let shim = found
        .iter()
        .find(|(pid, _, _)| *pid == main)
        .map_or(0, |(_, parent, _)| *parent);
    Ok(Some(ContainerProcs {
        pids: found.iter().map(|(pid, _, _)| *pid).collect(),
        main,
        shim,
    }))
}

/// Sends `signal` to `pid`. A process that has already exited is not an error.
pub fn signal(pid: u32, signal: i32) -> io::Result<()> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: kill(2) takes plain integers.
    if unsafe { libc::kill(pid, signal) } == 0 {
        return Ok(());
    }
    match io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        e if e.kind() == io::ErrorKind::PermissionDenied => Err(io::Error::new(
            e.kind(),
            format!(
                "signalling process {pid}: {e} (CAP_KILL is needed for another user's process)"
            ),
        )),
        e => Err(e),
    }
}

/// The parent PID and start time (clock ticks since boot) of `pid`, from `/proc/<pid>/stat`.
fn parent_and_start(pid: u32) -> Option<(u32, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// Fields 4 (ppid) and 22 (starttime) of a stat line; the command name (field 2) may hold
/// spaces and parentheses, so the fields are counted from its last ')'.
fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// The PIDs /proc lists.
pub fn pids() -> io::Result<Vec<u32>> {
    Ok(fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "4242 (web (worker) 1) S 4200 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((4200, 98765)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_found_by_its_own_cgroup_leaf() {
        // Whatever cgroup the test runs in, its leaf names it like a container ID would.
        let own = cgroup_lines(&fs::read_to_string("/proc/self/cgroup").unwrap());
        let leaf = own
            .iter()
            .filter_map(|l| l.path.rsplit('/').next())
            .find(|leaf| leaf.len() >= 12)
            .map(str::to_string);
        let Some(leaf) = leaf else {
            return; // the root cgroup: nothing to look for
        };
        let procs = find(&leaf)
            .unwrap()
            .expect("this process's cgroup has processes");
        assert!(procs.pids.contains(&std::process::id()));
    }

    #[test]
    fn a_container_that_is_not_here_is_none() {
        assert_eq!(find("0123456789abcdef0123456789abcdef").unwrap(), None);
    }

    #[test]
    fn signalling_an_exited_process_is_not_an_error() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        signal(pid, 0).unwrap();
    }
}
