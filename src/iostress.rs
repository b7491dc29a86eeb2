//! pod-io-stress's load, run by its hog process ([`crate::hog`]): files inside the target
//! container's filesystem, reached through `/proc/<pid>/root` and opened with
//! `RESOLVE_IN_ROOT` (so no symlink of the container's can lead outside it), written, synced and
//! read back without pause by one thread per file. Direct I/O where the filesystem allows it,
//! so the traffic goes to the device and is charged to the container's I/O cgroup.

use std::{
    ffi::CString,
    fs::File,
    io,
    os::{
        fd::{AsRawFd, FromRawFd, OwnedFd},
        unix::fs::FileExt,
    },
    path::Path,
};

/// The size of one write or read.
const CHUNK: usize = 1 << 20;

/// Opens directory `dir` of the container whose root is `root` (`/proc/<pid>/root`), resolving
/// every component inside that root.
pub fn open_dir(root: &Path, dir: &str) -> io::Result<OwnedFd> {
    let root = open_path(root)?;
    open_in(&root, dir).map_err(|err| {
        let hint = if err.raw_os_error() == Some(libc::ELOOP) {
            " (a component is a symlink: give the real directory)"
        } else {
            ""
        };
        io::Error::new(
            err.kind(),
            format!("cannot open {dir} inside the container: {err}{hint}"),
        )
    })
}

/// Like [`open_dir`], but None when the directory is not there to open (missing, not a
/// directory, reached through a symlink, or closed to root without CAP_DAC_OVERRIDE): where
/// this is so, the hog, which opens it the same way, cannot have written in it either.
pub fn open_dir_if_there(root: &Path, dir: &str) -> io::Result<Option<OwnedFd>> {
    let root = open_path(root)?;
    match open_in(&root, dir) {
        Ok(fd) => Ok(Some(fd)),
        Err(err)
            if matches!(
                err.raw_os_error(),
                Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::EACCES)
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(io::Error::new(
            err.kind(),
            format!("cannot open {dir} inside the container: {err}"),
        )),
    }
}

/// openat2 of `dir` below `root`, with the OS error as it came.
fn open_in(root: &OwnedFd, dir: &str) -> io::Result<OwnedFd> {
    let relative = dir.trim_start_matches('/');
    let relative = if relative.is_empty() { "." } else { relative };
    let name = CString::new(relative).map_err(io::Error::other)?;
    // SAFETY: open_how is plain integers; zero is "no flags".
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
    // No symlink at all: the directory reached is the one the path names, on the mount the pod
    // spec says it is (a link could lead onto another volume).
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: a valid directory fd, a NUL-terminated path and a correctly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            name.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat2 returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn open_path(path: &Path) -> io::Result<OwnedFd> {
    let name = CString::new(path.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
    // SAFETY: a NUL-terminated path.
    let fd = unsafe {
        libc::open(
            name.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("cannot open {}: {err}", path.display()),
        ));
    }
    // SAFETY: open returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The bytes free to an unprivileged writer on the filesystem of `dir`.
pub fn available(dir: &OwnedFd) -> io::Result<u64> {
    // SAFETY: a zeroed statvfs filled by the kernel.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid fd and a valid out pointer.
    if unsafe { libc::fstatvfs(dir.as_raw_fd(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Creates file `name` in `dir` (replacing one of the same name: a file a lost hog left), for
/// direct I/O where the filesystem allows it. Returns the file and whether it is direct.
pub fn create(dir: &OwnedFd, name: &str) -> io::Result<(File, bool)> {
    remove(dir, name)?;
    let c_name = CString::new(name).map_err(io::Error::other)?;
    let base = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    for (flags, direct) in [(base | libc::O_DIRECT, true), (base, false)] {
        // SAFETY: a valid directory fd and a NUL-terminated name.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), c_name.as_ptr(), flags, 0o600) };
        if fd >= 0 {
            // SAFETY: openat returned a new fd that nothing else owns.
            return Ok((unsafe { File::from_raw_fd(fd) }, direct));
        }
        let err = io::Error::last_os_error();
        // tmpfs and some others refuse O_DIRECT.
        if !(direct && err.raw_os_error() == Some(libc::EINVAL)) {
            return Err(io::Error::new(
                err.kind(),
                format!("cannot create {name}: {err}"),
            ));
        }
    }
    unreachable!("the second attempt returns")
}

/// Allocates `bytes` of disk space for `file` (its full size, in real blocks).
pub fn reserve(file: &File, bytes: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(bytes).map_err(io::Error::other)?;
    // SAFETY: a valid fd.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
        0 => Ok(()),
        code => {
            let err = io::Error::from_raw_os_error(code);
            Err(io::Error::new(
                err.kind(),
                format!("cannot allocate {} MiB: {err}", bytes >> 20),
            ))
        }
    }
}

/// Removes file `name` from `dir`. Returns whether there was one.
pub fn remove(dir: &OwnedFd, name: &str) -> io::Result<bool> {
    let c_name = CString::new(name).map_err(io::Error::other)?;
    // SAFETY: a valid directory fd and a NUL-terminated name.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), c_name.as_ptr(), 0) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOENT) => Ok(false),
        _ => Err(io::Error::new(
            err.kind(),
            format!("cannot remove {name}: {err}"),
        )),
    }
}

/// Writes `bytes` to `file`, syncs it and reads it back, over and over until the process is
/// killed. Without direct I/O, the written pages are dropped from the page cache after each sync
/// so that the reads reach the device too.
pub fn stress(file: &File, bytes: u64, direct: bool) -> io::Result<std::convert::Infallible> {
    let mut buffer = AlignedBuffer::new(CHUNK);
    buffer.as_mut().fill(0xA5);
    let chunks = bytes.div_ceil(CHUNK as u64);
    loop {
        for chunk in 0..chunks {
            file.write_all_at(buffer.as_mut(), chunk * CHUNK as u64)?;
        }
        file.sync_data()?;
        if !direct {
            // SAFETY: a valid fd; advice only.
            unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        }
        for chunk in 0..chunks {
            file.read_exact_at(buffer.as_mut(), chunk * CHUNK as u64)?;
        }
    }
}

/// A page-aligned buffer, as direct I/O needs.
struct AlignedBuffer {
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

impl AlignedBuffer {
    fn new(len: usize) -> Self {
        let layout = std::alloc::Layout::from_size_align(len, 4096).expect("a valid layout");
        // SAFETY: a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        AlignedBuffer { ptr, layout }
    }

    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: ptr holds layout.size() initialised bytes, owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }
}

impl Drop for AlignedBuffer {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in new.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_symlink_is_followed_and_a_climb_stays_in_the_root() {
        let root = tempdir("root");
        let outside = tempdir("outside");
        std::fs::create_dir(root.join("tmp")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("tmp/escape")).unwrap();
        std::os::unix::fs::symlink("../../../../..", root.join("tmp/up")).unwrap();
        std::os::unix::fs::symlink("/tmp", root.join("tmp/inside")).unwrap();
        for dir in ["/tmp/escape", "/tmp/up", "/tmp/inside"] {
            let err = open_dir(&root, dir).unwrap_err();
            assert!(err.to_string().contains("symlink"), "{dir}: {err}");
        }
        // `..` past the root stays at the root.
        let fd = open_dir(&root, "/../../tmp").unwrap();
        let (file, _) = create(&fd, "probe").unwrap();
        drop(file);
        assert!(root.join("tmp/probe").exists());
        assert!(!outside.join("probe").exists());
        let fd = open_dir(&root, "/tmp").unwrap();
        let (file, direct) = create(&fd, "f").unwrap();
        drop(file);
        eprintln!("direct I/O on {}: {direct}", std::env::temp_dir().display());
        assert!(root.join("tmp/f").exists());
        assert!(remove(&fd, "f").unwrap());
        assert!(!remove(&fd, "f").unwrap());
        assert!(available(&fd).unwrap() > 0);
        assert!(open_dir_if_there(&root, "/tmp/escape").unwrap().is_none());
        assert!(open_dir_if_there(&root, "/missing").unwrap().is_none());
        assert!(open_dir_if_there(&root, "/tmp").unwrap().is_some());
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&outside);
    }

    #[test]
    fn a_file_of_the_same_name_is_replaced() {
        let root = tempdir("replace");
        std::fs::write(root.join("old"), b"left by a lost hog").unwrap();
        let fd = open_dir(&root, "/").unwrap();
        let (file, _) = create(&fd, "old").unwrap();
        assert_eq!(file.metadata().unwrap().len(), 0);
        let _ = std::fs::remove_dir_all(&root);
    }

    fn tempdir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("faultline-io-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
