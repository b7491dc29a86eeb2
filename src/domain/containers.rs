//! Pure decisions about a target's containers as the node sees them: the container ID a pod's
//! status names, which `/proc/<pid>/cgroup` lines belong to it, which of its processes is the
//! main one, and whether a kill already happened.

/// The bare container ID of a status `containerID` such as `containerd://3f9a…` (any runtime
/// prefix). None when it is empty or too short to be unique in a /proc scan.
pub fn container_id(status_id: &str) -> Option<&str> {
    let id = status_id
        .split_once("://")
        .map_or(status_id, |(_, id)| id)
        .trim();
    // Runtimes use 64 hex digits; fewer than 12 could match another container's path.
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_alphanumeric())).then_some(id)
}

/// One line of `/proc/<pid>/cgroup`: `hierarchy-ID:controllers:path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupLine {
    pub hierarchy: u32,
    /// The controllers of a v1 hierarchy ("cpu,cpuacct", "memory", "name=systemd"); empty for
    /// the v2 unified hierarchy.
    pub controllers: String,
    pub path: String,
}

/// The lines of a `/proc/<pid>/cgroup` file.
pub fn cgroup_lines(text: &str) -> Vec<CgroupLine> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            Some(CgroupLine {
                hierarchy: parts.next()?.parse().ok()?,
                controllers: parts.next()?.to_string(),
                path: parts.next()?.to_string(),
            })
        })
        .collect()
}

/// Whether a process with these cgroup lines runs in container `id`: a path component names
/// it (cgroupfs driver: `…/pod<uid>/<id>`; systemd driver: `…/cri-containerd-<id>.scope`).
pub fn in_container(lines: &[CgroupLine], id: &str) -> bool {
    lines.iter().any(|l| {
        l.path
            .rsplit('/')
            .next()
            .is_some_and(|leaf| leaf == id || leaf.contains(&format!("-{id}.")))
    })
}

/// The container's main process among its processes, given as (pid, parent pid): the one whose
/// parent is outside the container (the runtime's shim). When several qualify (a process
/// re-parented to the shim), the oldest, that is the lowest start time, given as the third field.
pub fn main_process(procs: &[(u32, u32, u64)]) -> Option<u32> {
    procs
        .iter()
        .filter(|(_, parent, _)| !procs.iter().any(|(pid, _, _)| pid == parent))
        .min_by_key(|(pid, _, started)| (*started, *pid))
        .map(|(pid, _, _)| *pid)
}

/// What a container was when its kill was recorded, and what it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerState<'a> {
    pub id: Option<&'a str>,
    pub restart_count: i32,
}

/// Whether the container recorded `before` a kill has been replaced since (by our kill or
/// another): then a retried injection must not kill again.
pub fn replaced_since(before: &ContainerState, now: &ContainerState) -> bool {
    now.restart_count > before.restart_count || (now.id.is_some() && now.id != before.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f9a0c1d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5";

    #[test]
    fn the_id_is_the_part_after_the_runtime_prefix() {
        assert_eq!(container_id(&format!("containerd://{ID}")), Some(ID));
        assert_eq!(container_id(&format!("cri-o://{ID}")), Some(ID));
        assert_eq!(container_id(ID), Some(ID));
        assert_eq!(container_id("containerd://"), None);
        assert_eq!(container_id("containerd://abc"), None);
        assert_eq!(container_id("containerd://../../x/y/z/w"), None);
    }

    #[test]
    fn cgroup_lines_of_v1_and_v2() {
        let v1 = format!(
            "12:memory:/kubepods/burstable/pod1234/{ID}\n11:cpu,cpuacct:/kubepods/burstable/pod1234/{ID}\n1:name=systemd:/kubepods/burstable/pod1234/{ID}\n"
        );
        let lines = cgroup_lines(&v1);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].controllers, "cpu,cpuacct");
        assert!(in_container(&lines, ID));
        let v2 = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/cri-containerd-{ID}.scope\n"
        );
        let lines = cgroup_lines(&v2);
        assert_eq!(lines[0].hierarchy, 0);
        assert_eq!(lines[0].controllers, "");
        assert!(in_container(&lines, ID));
    }

    #[test]
    fn the_pod_sandbox_and_other_containers_are_not_the_container() {
        let other = "0::/kubepods/besteffort/pod1234/aaaaaaaaaaaaaaaaaaaa\n";
        assert!(!in_container(&cgroup_lines(other), ID));
        // A parent directory named after the ID does not make a child cgroup the container's.
        let nested = format!("0::/kubepods/{ID}/inner\n");
        assert!(!in_container(&cgroup_lines(&nested), ID));
    }

    #[test]
    fn the_main_process_is_the_one_whose_parent_is_outside() {
        // 100 (parent 50, the shim) forked 101 and 102; 101 forked 103.
        let procs = [
            (101, 100, 20),
            (100, 50, 10),
            (103, 101, 30),
            (102, 100, 25),
        ];
        assert_eq!(main_process(&procs), Some(100));
        // A grandchild re-parented to the shim after its parent exited is younger.
        let reparented = [(100, 50, 10), (104, 50, 40)];
        assert_eq!(main_process(&reparented), Some(100));
        assert_eq!(main_process(&[]), None);
    }

    #[test]
    fn a_container_replaced_since_the_record_is_not_killed_again() {
        let before = ContainerState {
            id: Some("a"),
            restart_count: 2,
        };
        let same = before.clone();
        assert!(!replaced_since(&before, &same));
        let restarted = ContainerState {
            id: Some("b"),
            restart_count: 3,
        };
        assert!(replaced_since(&before, &restarted));
        // Between the kill and the new container's start the status has no ID yet.
        let starting = ContainerState {
            id: None,
            restart_count: 2,
        };
        assert!(!replaced_since(&before, &starting));
    }
}
