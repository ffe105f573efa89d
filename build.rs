//! Records the git commit being built, for `kafkaesque --version`, the
//! start-up banner and the `kafkaesque_build_info` metric. Outside a git
//! checkout (a source tarball, `cargo install`) the commit is "unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KAFKAESQUE_GIT_COMMIT={commit}");

    // Run again when HEAD moves: HEAD itself (a checkout) and the branch it
    // points at (a commit). A worktree keeps HEAD in its own git dir and
    // branches in the common one. Only existing files are named, since
    // cargo treats a missing one as always changed.
    let git_dir = git(&["rev-parse", "--git-dir"]);
    let common_dir = git(&["rev-parse", "--git-common-dir"]);
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    let mut watched = Vec::new();
    if let Some(dir) = &git_dir {
        watched.push(Path::new(dir).join("HEAD"));
    }
    if let Some(dir) = common_dir.as_ref().or(git_dir.as_ref()) {
        watched.push(Path::new(dir).join("packed-refs"));
        if let Some(branch) = &branch {
            watched.push(Path::new(dir).join(branch));
        }
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// One line of `git`'s output, if git is there and succeeds.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.trim();
    (output.status.success() && !line.is_empty()).then(|| line.to_string())
}
