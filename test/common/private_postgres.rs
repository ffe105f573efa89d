//! A PostgreSQL server of a test's own: a fresh cluster (`initdb`) in a
//! temporary directory, listening on a free port of 127.0.0.1 with trust
//! authentication, stopped and deleted when the value is dropped.
//!
//! Tests that take the database down (restart it, crash it) use one of
//! these, so the machine's shared server at 127.0.0.1:5432, and every other
//! test using it at the same time, never notices.
//!
//! The server binaries are found as `pg_config --bindir` reports them, or
//! else under `/usr/lib/postgresql/<newest>/bin` (Debian's layout). Run as
//! root, the server runs as the `postgres` user (PostgreSQL refuses root).

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PrivatePostgres {
    /// The cluster's data directory; also holds its Unix socket and log.
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    /// Creates and starts a fresh cluster. Panics with the reason (and the
    /// fix) if PostgreSQL's server binaries cannot be found or run.
    pub fn start() -> PrivatePostgres {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let bin = server_bindir();
        let dir = std::env::temp_dir().join(format!(
            "kq-private-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the private cluster's directory");
        if running_as_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres", &dir.to_string_lossy()])
                .status()
                .expect("run chown");
            assert!(status.success(), "chown postgres {}", dir.display());
        }
        let pg = PrivatePostgres {
            dir,
            bin,
            port: free_port(),
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data_dir(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_server();
        pg
    }

    /// The server's URL without a database name, as
    /// [`TestDb::create_on`](super::TestDb::create_on) takes it.
    pub fn server(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// A URL for `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("{}/{database}", self.server())
    }

    /// A client connection to `database`.
    pub fn connect(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(database), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the private PostgreSQL: {e}"))
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.connect("postgres")
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        self.url(name)
    }

    /// Stops the server the way a crash does (`-m immediate`: no
    /// checkpoint; the next start recovers from the WAL).
    pub fn stop_immediate(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts the stopped server again, on the same port.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on",
            self.port,
            self.data_dir()
        );
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private PostgreSQL did not accept connections; its log:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A crash and recovery: stop immediately, start again.
    pub fn restart_immediate(&self) {
        self.stop_immediate();
        self.start_server();
    }

    fn data_dir(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
        assert!(
            output.status.success(),
            "{program} {args:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let dir = self.data_dir();
        let args = ["-D", dir.as_str(), "-m", "immediate", "stop"];
        let _ = if running_as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        } else {
            Command::new(&path)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn running_as_root() -> bool {
    // The real uid is the first number of /proc/self/status's Uid line.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Where `initdb`, `pg_ctl` and `postgres` live.
fn server_bindir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && dir.join("initdb").exists() {
            return dir;
        }
    }
    let newest = fs::read_dir("/usr/lib/postgresql")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .max_by_key(|bin| version_of(bin));
    newest.unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server binaries (initdb, pg_ctl) found via pg_config or \
             /usr/lib/postgresql/*/bin; install them: apt-get install postgresql"
        )
    })
}

/// The major version of a `/usr/lib/postgresql/<N>/bin` path, for ordering.
fn version_of(bin: &Path) -> u32 {
    bin.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
