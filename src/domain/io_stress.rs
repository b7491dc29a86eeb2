//! pod-io-stress's decisions: where in a container its files may go, and whether they fit.

/// Where pod-io-stress's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IoPlace {
    /// The container's own writable filesystem: the files go with the container.
    RootFs,
    /// An emptyDir volume: the files go with the pod, and outlive a restart of the container.
    EmptyDir { volume: String },
}

/// One volume mount of the container, with the kind of its volume ("emptyDir", "memory emptyDir"
/// for `medium: Memory`, "persistentVolumeClaim", "hostPath", ...).
#[derive(Clone, Debug)]
pub struct Mount<'a> {
    pub mount_path: &'a str,
    pub volume: &'a str,
    pub kind: &'a str,
    pub read_only: bool,
}

/// Where `path` (a directory inside the container) is, or what to fix. Only the container's
/// own filesystem and emptyDir volumes are accepted: both go with the pod, so a file can never
/// outlive it, even if every revert were lost.
pub fn io_place(path: &str, mounts: &[Mount], read_only_root: bool) -> Result<IoPlace, String> {
    if !path.starts_with('/') || path.split('/').any(|part| part == ".." || part == ".") {
        return Err(format!(
            "path {path:?} must be an absolute directory without . or .. components"
        ));
    }
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|m| path == *m || path.starts_with(&format!("{m}/")))
    {
        return Err(format!(
            "path {path} is on a file system the container runtime provides (/proc, /sys, /dev): use the container's own filesystem or an emptyDir volume"
        ));
    }
    let under = |mount: &str| {
        let mount = mount.trim_end_matches('/');
        path == mount
            || mount.is_empty()
            || path
                .strip_prefix(mount)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    let mount = mounts
        .iter()
        .filter(|m| under(m.mount_path))
        .max_by_key(|m| m.mount_path.trim_end_matches('/').len());
    let Some(mount) = mount else {
        if read_only_root {
            let empty_dirs: Vec<&str> = mounts
                .iter()
                .filter(|m| m.kind == "emptyDir" && !m.read_only)
                .map(|m| m.mount_path)
                .collect();
            return Err(format!(
                "path {path} is on the container's read-only root filesystem; point path at an emptyDir volume{}",
                if empty_dirs.is_empty() {
                    " (the container mounts none)".to_string()
                } else {
                    format!(" such as {}", empty_dirs.join(", "))
                }
            ));
        }
        return Ok(IoPlace::RootFs);
    };
    if mount.read_only {
        return Err(format!(
            "path {path} is on volume {} mounted read-only",
            mount.volume
        ));
    }
    if mount.kind == "memory emptyDir" {
        return Err(format!(
            "path {path} is on volume {}, an emptyDir with medium Memory: its files would fill the container's memory instead of stressing a disk; use an emptyDir on disk",
            mount.volume
        ));
    }
    if mount.kind != "emptyDir" {
        return Err(format!(
            "path {path} is on volume {} ({}): pod-io-stress writes only to the container's own filesystem or an emptyDir volume, which go with the pod, so no file can outlive it",
            mount.volume, mount.kind
        ));
    }
    Ok(IoPlace::EmptyDir {
        volume: mount.volume.to_string(),
    })
}

/// Whether `bytes` of files fit where `available` bytes are free: at most half of it, so the
/// fault never fills the disk. (The kubelet's eviction thresholds are a share of capacity, which
/// the fault does not know: docs/faults.md says to check a node close to them.)
pub fn io_fits(bytes: u64, available: u64) -> Result<(), String> {
    if bytes > available / 2 {
        return Err(format!(
            "the files would take {} MiB where {} MiB are free; pod-io-stress uses at most half of the free space: lower mebibytes or workers",
            bytes >> 20,
            available >> 20
        ));
    }
    Ok(())
}

/// The name of worker `worker`'s file for the fault `fault` of result `result`.
pub fn io_file_name(result: &str, fault: &str, worker: u32) -> String {
    let result = result.rsplit('/').next().unwrap_or(result);
    format!("faultline-io.{result}.{fault}.{worker}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount<'a>(mount_path: &'a str, volume: &'a str, kind: &'a str) -> Mount<'a> {
        Mount {
            mount_path,
            volume,
            kind,
            read_only: false,
        }
    }

    #[test]
    fn the_root_filesystem_is_used_unless_it_is_read_only() {
        assert_eq!(io_place("/tmp", &[], false), Ok(IoPlace::RootFs));
        let err = io_place("/tmp", &[mount("/scratch", "scratch", "emptyDir")], true).unwrap_err();
        assert!(
            err.contains("read-only root filesystem") && err.contains("/scratch"),
            "{err}"
        );
        let err = io_place("/tmp", &[], true).unwrap_err();
        assert!(err.contains("mounts none"), "{err}");
    }

    #[test]
    fn the_deepest_mount_decides_and_only_empty_dirs_are_written() {
        let mounts = [
            mount("/data", "data", "persistentVolumeClaim"),
            mount("/data/cache/", "cache", "emptyDir"),
        ];
        assert_eq!(
            io_place("/data/cache/x", &mounts, true),
            Ok(IoPlace::EmptyDir {
                volume: "cache".into()
            })
        );
        assert_eq!(
            io_place("/data/cache", &mounts, true),
            Ok(IoPlace::EmptyDir {
                volume: "cache".into()
            })
        );
        let err = io_place("/data/db", &mounts, false).unwrap_err();
        assert!(err.contains("volume data (persistentVolumeClaim)"), "{err}");
        // A prefix of a name is not a parent directory.
        assert_eq!(io_place("/database", &mounts, false), Ok(IoPlace::RootFs));
    }

    #[test]
    fn memory_and_runtime_file_systems_are_refused() {
        let shm = mount("/cache", "cache", "memory emptyDir");
        let err = io_place("/cache", &[shm], false).unwrap_err();
        assert!(err.contains("medium Memory"), "{err}");
        for path in ["/dev/shm", "/proc", "/sys/fs"] {
            let err = io_place(path, &[], false).unwrap_err();
            assert!(err.contains("runtime provides"), "{path}: {err}");
        }
        assert_eq!(io_place("/device", &[], false), Ok(IoPlace::RootFs));
    }

    #[test]
    fn read_only_mounts_and_relative_paths_are_refused() {
        let mut cache = mount("/cache", "cache", "emptyDir");
        cache.read_only = true;
        assert!(
            io_place("/cache", &[cache], false)
                .unwrap_err()
                .contains("read-only")
        );
        assert!(io_place("tmp", &[], false).is_err());
        assert!(io_place("/tmp/../etc", &[], false).is_err());
    }

    #[test]
    fn files_take_at_most_half_the_free_space() {
        assert_eq!(io_fits(256 << 20, 1 << 30), Ok(()));
        assert_eq!(io_fits(512 << 20, 1 << 30), Ok(()));
        let err = io_fits(600 << 20, 1 << 30).unwrap_err();
        assert!(err.contains("600 MiB") && err.contains("1024 MiB"), "{err}");
    }

    #[test]
    fn file_names_carry_the_result_and_fault() {
        assert_eq!(
            io_file_name("shop/web-1", "disk", 0),
            "faultline-io.web-1.disk.0"
        );
    }
}
