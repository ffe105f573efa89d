//! `kafkaesque dev`: from PostgreSQL's server programs alone to a broker a
//! librdkafka client produces to and consumes from; stopped and started
//! again on the same directory (the records are still there), killed with
//! `kill -9` (the next start finds the PostgreSQL it left running and
//! reuses it), and never two at once on one directory.
//!
//! The cluster is the test's own, in a temporary directory, on a Unix
//! socket only: the machine's shared server is not involved.

mod common;

use common::free_port;
use common::spawned::{consume_from_start, produce, run, Spawned};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The data directory, and whatever server is left in it, cleaned up at
/// the end however the test ends.
struct DataDir(PathBuf);

impl DataDir {
    fn postmaster_pid(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.0.join("postgres/postmaster.pid")).ok()?;
        text.lines().next().map(str::to_string)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Some(pid) = self.postmaster_pid() {
            // An immediate shutdown of a server a failed test left behind.
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &pid])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.postmaster_pid().is_some() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn consume_all(addr: &str, n: usize) -> Vec<String> {
    consume_from_start(addr, "dev", n).0
}

fn records(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("record-{i}")).collect()
}

fn start(dir: &Path, addr: &str) -> Spawned {
    let dir = dir.to_str().expect("a UTF-8 temp path");
    Spawned::start(&["dev", "--data-dir", dir, "--listener", addr], &[], addr)
}

#[test]
fn dev_mode_starts_stops_restarts_and_survives_kill_9() {
    let dir = DataDir(std::env::temp_dir().join(format!("kq-dev-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let addr = format!("127.0.0.1:{}", free_port());

    // First run: the cluster is created, the schema applied.
    let mut broker = start(&dir.0, &addr);
    produce(&addr, "dev", &records(0, 10));
    assert_eq!(consume_all(&addr, 10), records(0, 10));
    assert!(
        broker.log().contains("creating a PostgreSQL cluster"),
        "{}",
        broker.log()
    );
    assert!(broker.terminate().success(), "{}", broker.log());
    assert!(
        broker.log().contains("stopped PostgreSQL"),
        "{}",
        broker.log()
    );
    assert_eq!(
        dir.postmaster_pid(),
        None,
        "PostgreSQL still running after SIGTERM"
    );

    // Second run on the same directory: the records are still there.
    let mut broker = start(&dir.0, &addr);
    assert!(
        !broker.log().contains("creating a PostgreSQL cluster"),
        "{}",
        broker.log()
    );
    produce(&addr, "dev", &records(10, 20));
    assert_eq!(consume_all(&addr, 20), records(0, 20));

    // Only one kafkaesque dev per directory, even on another port.
    let other = format!("127.0.0.1:{}", free_port());
    let refused = run(
        &[
            "dev",
            "--data-dir",
            dir.0.to_str().unwrap(),
            "--listener",
            &other,
        ],
        &[],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("another kafkaesque dev is using"),
        "{stderr}"
    );

    // kill -9: PostgreSQL is left running; the next start reuses it.
    broker.kill();
    let left_running = dir
        .postmaster_pid()
        .expect("PostgreSQL left running by the killed broker");
    let mut broker = start(&dir.0, &addr);
    assert!(
        broker
            .log()
            .contains("reusing the PostgreSQL server an earlier run left running"),
        "{}",
        broker.log()
    );
    assert_eq!(dir.postmaster_pid().as_deref(), Some(left_running.as_str()));
    produce(&addr, "dev", &records(20, 25));
    assert_eq!(consume_all(&addr, 25), records(0, 25));
    assert!(broker.terminate().success(), "{}", broker.log());
    assert_eq!(
        dir.postmaster_pid(),
        None,
        "PostgreSQL still running after SIGTERM"
    );
}
