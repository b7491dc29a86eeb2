//! Embeds the git commit the binary is built from, for `faultline --version`, as
//! FAULTLINE_GIT_COMMIT: the short hash, followed by "-dirty" when the files the binary is built
//! from (src/, build.rs, Cargo.toml, Cargo.lock) differ from that commit, or "unknown" outside a
//! git checkout (a source tarball, `cargo install --path .` from an unpacked archive). Writes
//! nothing into the source tree.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the binary is built from: a change to any of them makes the build "-dirty".
const SOURCES: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    // Only this package's own checkout counts: a tarball unpacked inside some other repository
    // must not report that repository's commit.
    let own_checkout = git(&manifest_dir, &["rev-parse", "--show-toplevel"])
        .and_then(|top| Path::new(&top).canonicalize().ok())
        .zip(manifest_dir.canonicalize().ok())
        .is_some_and(|(top, dir)| top == dir);
    let commit = own_checkout
        .then(|| git(&manifest_dir, &["rev-parse", "--short", "HEAD"]))
        .flatten()
        .map(|hash| {
            let mut status = vec![
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
            ];
            status.extend(SOURCES);
            // Any output lists a changed source file; no output (None) means clean.
            match git(&manifest_dir, &status) {
                Some(_) => format!("{hash}-dirty"),
                None => hash,
            }
        });
    println!(
        "cargo:rustc-env=FAULTLINE_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );

    // Rerun when a source file changes (for -dirty), and when HEAD moves: HEAD itself (a
    // checkout), the branch it points to (a commit), and packed-refs. A worktree keeps HEAD in its own git dir and refs in the common one, which
    // `git rev-parse --git-path` resolves. Without any rerun-if-changed line, cargo would rerun
    // this on every change in the package.
    println!("cargo:rerun-if-changed=build.rs");
    if !own_checkout {
        return;
    }
    let git_path = |name: &str| {
        git(&manifest_dir, &["rev-parse", "--git-path", name]).map(|p| manifest_dir.join(p))
    };
    // A missing path would make cargo rerun this on every build: watch only what exists.
    let mut watched: Vec<PathBuf> = ["HEAD", "packed-refs"]
        .into_iter()
        .filter_map(git_path)
        .filter(|p| p.exists())
        .collect();
    if let Some(branch) =
        git(&manifest_dir, &["symbolic-ref", "-q", "HEAD"]).and_then(|b| git_path(&b))
    {
        // A branch with no loose ref yet (only packed) is seen through its refs folder.
        match branch.parent() {
            Some(folder) if !branch.exists() && folder.exists() => watched.push(folder.to_owned()),
            _ if branch.exists() => watched.push(branch),
            _ => {}
        }
    }
    watched.extend(SOURCES.iter().map(|source| manifest_dir.join(source)));
    for path in watched {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
