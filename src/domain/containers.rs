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

/// Whether a process with these cgroup lines runs in container `id`: the last path component
/// names it (cgroupfs driver: `…/pod<uid>/<id>`; systemd driver: `…/cri-containerd-<id>.scope`),
/// or the one before a `container` leaf (crun under systemd: `…/crio-<id>.scope/container`).
pub fn in_container(lines: &[CgroupLine], id: &str) -> bool {
    lines.iter().any(|l| {
        let mut parts = l.path.rsplit('/');
        match (parts.next(), parts.next()) {
            (Some("container"), Some(parent)) => leaf_is_container(parent, id),
            (Some(leaf), _) => leaf_is_container(leaf, id),
            _ => false,
        }
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

/// Whether a cgroup directory named `leaf` is container `id`'s: the ID itself (cgroupfs driver)
/// or `<prefix>-<id>.scope` (systemd driver, e.g. `cri-containerd-<id>.scope`), but never
/// CRI-O's monitor next to it, `crio-conmon-<id>.scope`.
pub fn leaf_is_container(leaf: &str, id: &str) -> bool {
    leaf == id || (leaf.ends_with(&format!("-{id}.scope")) && !leaf.contains("conmon"))
}

/// A cgroup file system mounted on the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupMount {
    /// Where it is mounted, in the mount namespace the mountinfo came from.
    pub mount_point: String,
    pub v2: bool,
    /// A v1 hierarchy's controllers ("cpu", "memory", ...); empty for v2 and named hierarchies.
    pub controllers: Vec<String>,
}

/// The v1 controllers a hierarchy can carry; other super options are mount flags.
const CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// The cgroup file systems of a `/proc/<pid>/mountinfo`.
pub fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let mount_point = before.split(' ').nth(4)?;
            let mut after = after.split(' ');
            let fstype = after.next()?;
            let options = after.nth(1).unwrap_or_default();
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            let controllers = options
                .split(',')
                .filter(|o| CONTROLLERS.contains(o))
                .map(String::from)
                .collect();
            Some(CgroupMount {
                mount_point: mount_point.replace("\\040", " "),
                v2,
                controllers,
            })
        })
        .collect()
}

/// The hierarchies a process joins to be limited and accounted as a container's: every v1
/// hierarchy with controllers or, on a pure v2 node, the v2 one. A hybrid node's v2 hierarchy
/// carries no controller and is left alone.
pub fn accounting_mounts(mounts: &[CgroupMount]) -> Vec<&CgroupMount> {
    let v1: Vec<&CgroupMount> = mounts
        .iter()
        .filter(|m| !m.v2 && !m.controllers.is_empty())
        .collect();
    if v1.is_empty() {
        mounts.iter().filter(|m| m.v2).take(1).collect()
    } else {
        v1
    }
}

/// A Kubernetes quantity ("500m", "1.5", "128Mi", "1G") in thousandths of its unit, so CPU
/// comes out in millicores and memory in milli-bytes. None when it is not one.
pub fn quantity_milli(quantity: &str) -> Option<u128> {
    let quantity = quantity.trim();
    let split = quantity
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(quantity.len());
    let (number, suffix) = quantity.split_at(split);
    let factor_milli: u128 = match suffix {
        "m" => 1,
        "" => 1_000,
        "k" => 1_000_000,
        "M" => 1_000_000_000,
        "G" => 1_000_000_000_000,
        "T" => 1_000_000_000_000_000,
        "Ki" => 1_024_000,
        "Mi" => 1_048_576_000,
        "Gi" => 1_073_741_824_000,
        "Ti" => 1_099_511_627_776_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(factor_milli)?;
    let mut scale = factor_milli;
    for digit in fraction.chars() {
        scale /= 10;
        value += u128::from(digit.to_digit(10)?) * scale;
    }
    Some(value)
}

/// How hard a CPU hog burns, in millicores: `cores` as asked, or `percent` of the container's
/// CPU `limit` (millicores). Without a limit it is capped at the node's CPUs less half a core,
/// so the kubelet and the API server keep running; the second value says so when it applied.
pub fn cpu_hog_millicores(
    cores: Option<u128>,
    percent: Option<u32>,
    limit: Option<u128>,
    node_cpus: u32,
) -> Result<(u32, Option<String>), String> {
    let asked = match (cores, percent, limit) {
        (Some(cores), _, _) => cores,
        (None, Some(percent), Some(limit)) => limit * u128::from(percent) / 100,
        (None, Some(_), None) => {
            return Err(
                "percent is of the container's CPU limit, and it has none: give cores instead"
                    .into(),
            );
        }
        (None, None, _) => return Err("give cores or percent".into()),
    };
    if asked == 0 {
        return Err("the CPU to burn comes to 0 millicores".into());
    }
    let cap = u128::from(node_cpus) * 1000 - 500;
    if limit.is_none() && asked > cap {
        let note = format!(
            "capped at {cap}m (the node's {node_cpus} CPUs less half a core: the container has no CPU limit) instead of {asked}m"
        );
        return Ok((u32::try_from(cap).unwrap_or(u32::MAX), Some(note)));
    }
    // With a limit the container's quota throttles the hog; more threads than the node has CPUs
    // would only crowd the container's pids limit.
    let all = u128::from(node_cpus) * 1000;
    if asked > all {
        let note = format!("capped at {all}m, the node's {node_cpus} CPUs, instead of {asked}m");
        return Ok((u32::try_from(all).unwrap_or(u32::MAX), Some(note)));
    }
    Ok((u32::try_from(asked).unwrap_or(u32::MAX), None))
}

/// How much a memory hog fills, in bytes: `mebibytes` as asked, or `percent` of the container's
/// memory `limit` (bytes).
pub fn memory_hog_bytes(
    mebibytes: Option<u64>,
    percent: Option<u32>,
    limit: Option<u64>,
) -> Result<u64, String> {
    let bytes = match (mebibytes, percent, limit) {
        (Some(mebibytes), _, _) => mebibytes.saturating_mul(1 << 20),
        (None, Some(percent), Some(limit)) => {
            u64::try_from(u128::from(limit) * u128::from(percent) / 100).unwrap_or(u64::MAX)
        }
        (None, Some(_), None) => {
            return Err("percent is of the container's memory limit, and it has none: give mebibytes instead".into());
        }
        (None, None, _) => return Err("give mebibytes or percent".into()),
    };
    if bytes == 0 {
        return Err("the memory to fill comes to 0 bytes".into());
    }
    Ok(bytes)
}

/// The bytes read plus written in a v2 `io.stat` (`8:0 rbytes=N wbytes=N rios=N ...`, one line
/// per device).
pub fn io_stat_bytes(stat: &str) -> u64 {
    stat.split_whitespace()
        .filter_map(|field| {
            field
                .strip_prefix("rbytes=")
                .or_else(|| field.strip_prefix("wbytes="))
        })
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// The bytes read plus written in a v1 `blkio.throttle.io_service_bytes` (`8:0 Read N`,
/// `8:0 Write N`, ..., `Total N`).
pub fn blkio_total_bytes(stat: &str) -> u64 {
    stat.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_device, op, n) = (fields.next()?, fields.next()?, fields.next()?);
            matches!(op, "Read" | "Write").then(|| n.parse::<u64>().ok())?
        })
        .sum()
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
    fn cri_os_monitor_is_not_the_container_and_cruns_inner_cgroup_is() {
        let conmon = format!("0::/kubepods.slice/kubepods-pod1.slice/crio-conmon-{ID}.scope\n");
        assert!(!in_container(&cgroup_lines(&conmon), ID));
        let crun = format!("0::/kubepods.slice/kubepods-pod1.slice/crio-{ID}.scope/container\n");
        assert!(in_container(&cgroup_lines(&crun), ID));
        assert!(leaf_is_container(&format!("crio-{ID}.scope"), ID));
        assert!(!leaf_is_container(&format!("crio-conmon-{ID}.scope"), ID));
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

    #[test]
    fn cgroup_mounts_of_a_hybrid_node_and_a_v2_node() {
        let hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,nosuid,cpu,cpuacct
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        let mounts = cgroup_mounts(hybrid);
        assert_eq!(mounts.len(), 5);
        assert_eq!(mounts[2].controllers, ["cpu", "cpuacct"]);
        let joined: Vec<&str> = accounting_mounts(&mounts)
            .iter()
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(
            joined,
            [
                "/sys/fs/cgroup/cpu",
                "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/cpu,cpuacct"
            ]
        );
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        let mounts = cgroup_mounts(v2);
        assert_eq!(accounting_mounts(&mounts)[0].mount_point, "/sys/fs/cgroup");
        assert!(accounting_mounts(&mounts)[0].v2);
    }

    #[test]
    fn quantities_in_thousandths() {
        assert_eq!(quantity_milli("500m"), Some(500));
        assert_eq!(quantity_milli("1"), Some(1000));
        assert_eq!(quantity_milli("1.5"), Some(1500));
        assert_eq!(quantity_milli("0.25"), Some(250));
        assert_eq!(quantity_milli("64Mi"), Some(64 * 1_048_576_000));
        assert_eq!(quantity_milli("1G"), Some(1_000_000_000_000));
        assert_eq!(quantity_milli("1.5Gi"), Some(1_610_612_736_000));
        assert_eq!(quantity_milli(""), None);
        assert_eq!(quantity_milli("m"), None);
        assert_eq!(quantity_milli("12x"), None);
        assert_eq!(quantity_milli("1e3"), None);
    }

    #[test]
    fn a_cpu_hog_burns_cores_or_a_share_of_the_limit_and_no_more_than_the_node_can_spare() {
        assert_eq!(
            cpu_hog_millicores(Some(1000), None, None, 2),
            Ok((1000, None))
        );
        assert_eq!(
            cpu_hog_millicores(None, Some(50), Some(800), 2),
            Ok((400, None))
        );
        // Over a limit the container's own quota throttles it, up to the node's CPUs.
        assert_eq!(
            cpu_hog_millicores(Some(1500), None, Some(500), 2),
            Ok((1500, None))
        );
        let (all, note) = cpu_hog_millicores(Some(100_000_000), None, Some(500), 2).unwrap();
        assert_eq!(all, 2000);
        assert!(note.unwrap().contains("the node's 2 CPUs"));
        let (capped, note) = cpu_hog_millicores(Some(4000), None, None, 2).unwrap();
        assert_eq!(capped, 1500);
        assert!(note.unwrap().contains("capped at 1500m"));
        assert!(
            cpu_hog_millicores(None, Some(50), None, 2)
                .unwrap_err()
                .contains("has none")
        );
        assert!(cpu_hog_millicores(Some(0), None, None, 2).is_err());
    }

    #[test]
    fn a_memory_hog_fills_mebibytes_or_a_share_of_the_limit() {
        assert_eq!(memory_hog_bytes(Some(64), None, None), Ok(64 << 20));
        assert_eq!(
            memory_hog_bytes(None, Some(50), Some(256 << 20)),
            Ok(128 << 20)
        );
        assert!(
            memory_hog_bytes(None, Some(50), None)
                .unwrap_err()
                .contains("has none")
        );
    }

    #[test]
    fn io_bytes_are_read_plus_written_over_every_device() {
        let v2 = "8:0 rbytes=4096 wbytes=1048576 rios=1 wios=1 dbytes=0 dios=0\n253:0 rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
        assert_eq!(io_stat_bytes(v2), 4096 + 1048576 + 10);
        let v1 = "254:0 Read 2097152\n254:0 Write 1048576\n254:0 Sync 3145728\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 3145728\nTotal 3145728\n";
        assert_eq!(blkio_total_bytes(v1), 3 << 20);
        assert_eq!(blkio_total_bytes("Total 0\n"), 0);
    }
}
