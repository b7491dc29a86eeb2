//! The resource faults' hog on this machine's own cgroups (as root): it joins a scratch cgroup in
//! every accounting hierarchy, the load shows in that cgroup's accounting, and it is gone when
//! stopped and when the process that started it is SIGKILLed. Skipped (passing) when not root.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    thread::sleep,
    time::{Duration, Instant},
};

use faultline::{
    cgroups::{CgroupDir, NodeView},
    hog::{self, Load},
};

const FAULTLINE: &str = env!("CARGO_BIN_EXE_faultline");

/// One test at a time: a hog's load must not be measured against another test's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Scratch cgroups, one per accounting hierarchy, removed on drop (once empty); holds
/// [`SERIAL`] while it lives.
struct Scratch(
    Vec<CgroupDir>,
    #[allow(dead_code)] std::sync::MutexGuard<'static, ()>,
);

impl Scratch {
    fn new(name: &str) -> Option<Scratch> {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: skipped");
            return None;
        }
        let mounts = NodeView::Own.mounts().expect("mountinfo");
        let mut dirs = Vec::new();
        for mount in faultline::domain::containers::accounting_mounts(&mounts) {
            let path =
                PathBuf::from(&mount.mount_point).join(format!("{name}-{}", std::process::id()));
            fs::create_dir_all(&path).expect("a scratch cgroup");
            // A new v1 cpuset has no CPUs or memory nodes until given its parent's.
            for file in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(parent) = fs::read_to_string(Path::new(&mount.mount_point).join(file)) {
                    let _ = fs::write(path.join(file), parent.trim());
                }
            }
            dirs.push(CgroupDir {
                path,
                v2: mount.v2,
                controllers: mount.controllers.clone(),
            });
        }
        Some(Scratch(dirs, serial))
    }

    fn procs(&self) -> Vec<u32> {
        self.0
            .iter()
            .flat_map(|d| d.procs().unwrap_or_default())
            .collect()
    }

    fn cpu_ns(&self) -> u64 {
        self.0
            .iter()
            .find_map(CgroupDir::cpu_usage_ns)
            .expect("a CPU accounting cgroup")
    }

    fn memory(&self) -> u64 {
        self.0
            .iter()
            .find_map(CgroupDir::memory_bytes)
            .expect("a memory cgroup")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A v1 cgroup whose last process just exited can still be busy for a moment.
        for dir in &self.0 {
            let _ = wait_until(Duration::from_secs(5), || {
                fs::remove_dir(&dir.path).is_ok() || !dir.path.exists()
            });
        }
    }
}

fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if done() {
            return Some(start.elapsed());
        }
        sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn a_cpu_hog_burns_one_core_in_the_cgroup_and_is_gone_when_stopped() {
    let Some(scratch) = Scratch::new("faultline-cpu") else {
        return;
    };
    let load = Load::Cpu { millicores: 1000 };
    let hog = hog::spawn(
        Path::new(FAULTLINE),
        "t/r/cpu",
        &NodeView::Own,
        &scratch.0,
        load,
        Duration::from_secs(10),
    )
    .expect("the hog starts");
    for dir in &scratch.0 {
        assert_eq!(
            dir.procs().unwrap(),
            [hog.pid()],
            "the hog is in {}",
            dir.path.display()
        );
    }
    let before = scratch.cpu_ns();
    sleep(Duration::from_secs(3));
    let cores = (scratch.cpu_ns() - before) as f64 / 3e9;
    eprintln!("1000m requested: {cores:.3} cores measured in the cgroup over 3 s");
    assert!((0.8..=1.1).contains(&cores), "{cores} cores");
    hog.stop().unwrap();
    assert!(scratch.procs().is_empty());
}

#[test]
fn a_memory_hog_fills_the_cgroup_and_releases_it() {
    let Some(scratch) = Scratch::new("faultline-memory") else {
        return;
    };
    let before = scratch.memory();
    let load = Load::Memory { bytes: 64 << 20 };
    let hog = hog::spawn(
        Path::new(FAULTLINE),
        "t/r/mem",
        &NodeView::Own,
        &scratch.0,
        load,
        Duration::from_secs(10),
    )
    .expect("the hog starts");
    let during = scratch.memory();
    let added = (during - before) >> 20;
    eprintln!("64 MiB requested: the cgroup's usage rose by {added} MiB");
    assert!(added >= 60, "{added} MiB");
    hog.stop().unwrap();
    let after = scratch.memory();
    eprintln!(
        "after the stop: {} MiB above the start",
        after.saturating_sub(before) >> 20
    );
    assert!(after.saturating_sub(before) < 4 << 20);
}

#[test]
fn an_io_hog_writes_and_reads_through_the_cgroup_inside_the_root_it_is_given() {
    let Some(scratch) = Scratch::new("faultline-io") else {
        return;
    };
    // A container's root as /proc/<pid>/root shows it: here, a directory of this machine's.
    let root = std::env::temp_dir().join(format!("faultline-io-root-{}", std::process::id()));
    fs::create_dir_all(root.join("scratch")).unwrap();
    let io_bytes = || {
        scratch
            .0
            .iter()
            .find_map(CgroupDir::io_bytes)
            .expect("an I/O accounting cgroup")
    };
    let files = vec![
        "faultline-io.r.disk.0".to_string(),
        "faultline-io.r.disk.1".to_string(),
    ];
    let load = Load::Io {
        root: root.clone(),
        dir: "/scratch".into(),
        files: files.clone(),
        bytes: 16 << 20,
    };
    // A v1 blkio cgroup counts I/O only once a throttle rule exists for the device: one far
    // above any disk's speed turns the accounting on and limits nothing.
    let dev = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&root).unwrap().dev()
    };
    let device = format!("{}:{} 1099511627776", libc::major(dev), libc::minor(dev));
    for dir in scratch
        .0
        .iter()
        .filter(|d| !d.v2 && d.controllers.iter().any(|c| c == "blkio"))
    {
        for file in [
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_bps_device",
        ] {
            fs::write(dir.path.join(file), &device).unwrap();
        }
    }
    let before = io_bytes();
    let hog = hog::spawn(
        Path::new(FAULTLINE),
        "t/r/io",
        &NodeView::Own,
        &scratch.0,
        load,
        Duration::from_secs(10),
    )
    .expect("the hog starts");
    sleep(Duration::from_secs(3));
    let moved = io_bytes() - before;
    eprintln!(
        "2 workers x 16 MiB: {} MiB read and written by the cgroup in 3 s",
        moved >> 20
    );
    // Unlinked at once, held open by the hog at their full size.
    let held: Vec<(String, u64)> = fs::read_dir(format!("/proc/{}/fd", hog.pid()))
        .unwrap()
        .filter_map(|fd| {
            let fd = fd.ok()?.path();
            let target = fs::read_link(&fd).ok()?.display().to_string();
            target
                .contains("faultline-io.r.disk.")
                .then(|| (target, fs::metadata(&fd).map(|m| m.len()).unwrap_or(0)))
        })
        .collect();
    eprintln!("held: {held:?}");
    assert_eq!(held.len(), 2, "{held:?}");
    for (target, size) in &held {
        assert!(target.ends_with(" (deleted)"), "{target}");
        assert_eq!(*size, 16 << 20, "{target}");
    }
    for file in &files {
        assert!(
            !root.join("scratch").join(file).exists(),
            "{file} has a name"
        );
    }
    // At least each file written and read back once, all of it through the cgroup.
    assert!(moved >= 64 << 20, "{} MiB", moved >> 20);
    hog.stop().unwrap();
    assert!(scratch.procs().is_empty());
    let _ = fs::remove_dir_all(&root);
}

#[test]
fn a_hog_dies_with_the_process_that_started_it_even_on_sigkill() {
    let Some(scratch) = Scratch::new("faultline-orphan") else {
        return;
    };
    let paths: Vec<String> = scratch
        .0
        .iter()
        .map(|d| d.path.display().to_string())
        .collect();
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hog_helper", "--ignored", "--nocapture"])
        .env("HOG_HELPER_CGROUPS", paths.join(":"))
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), || !scratch.procs().is_empty())
        .expect("the helper's hog joined");
    let hogs = scratch.procs();
    helper.kill().unwrap(); // SIGKILL: no chance to clean up
    helper.wait().unwrap();
    let gone = wait_until(Duration::from_secs(2), || scratch.procs().is_empty());
    eprintln!("hog {hogs:?}: gone from the cgroup {gone:?} after its parent's SIGKILL");
    assert!(
        gone.is_some(),
        "the hog outlived its parent: {:?}",
        scratch.procs()
    );
}

/// Run by the test above in a process of its own: starts a hog and waits to be killed.
#[test]
#[ignore]
fn hog_helper() {
    let Ok(paths) = std::env::var("HOG_HELPER_CGROUPS") else {
        return;
    };
    let dirs: Vec<CgroupDir> = paths
        .split(':')
        .map(|p| CgroupDir {
            path: p.into(),
            v2: false,
            controllers: vec![],
        })
        .collect();
    let _hog = hog::spawn(
        Path::new(FAULTLINE),
        "t/r/orphan",
        &NodeView::Own,
        &dirs,
        Load::Cpu { millicores: 200 },
        Duration::from_secs(10),
    )
    .expect("the hog starts");
    sleep(Duration::from_secs(60));
}
