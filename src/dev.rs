//! `kafkaesque dev`: from nothing to a running broker in one command, on a
//! machine that has PostgreSQL's server package but no server set up.
//!
//! The first run creates a private PostgreSQL cluster in the data directory
//! (`./kafkaesque-data` unless `--data-dir` says otherwise) with `initdb`.
//! Every run starts it listening on a Unix socket inside that directory
//! only: no TCP port, so no password is needed, and the directory's
//! permissions are the access control. The broker then applies the schema
//! and serves on 127.0.0.1:9092; when it stops (SIGINT, SIGTERM) it stops
//! PostgreSQL too. If the broker is killed instead (`kill -9`), the server
//! it leaves running is found by the next start and reused.
//!
//! PostgreSQL refuses to run as root, so run as root the server runs as the
//! `postgres` user that PostgreSQL's packages create.

use crate::config::{Loaded, Origin};
use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const DEFAULT_DATA_DIR: &str = "kafkaesque-data";

/// Defaults `kafkaesque dev` changes (flags, environment and file still
/// override them): a development broker is for this machine only.
pub const DEFAULTS: &[(&str, &str)] = &[("listeners", "127.0.0.1:9092")];

/// The cluster's directory inside the data directory; its Unix socket is
/// there too.
const CLUSTER_DIR: &str = "postgres";
/// The database the broker uses.
const DATABASE: &str = "kafkaesque";
/// The longest Unix socket path (`sun_path` holds 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// A private PostgreSQL server for one broker, stopped when dropped.
pub struct DevPostgres {
    bin: PathBuf,
    cluster: PathBuf,
    /// The user the server runs as when we run as root.
    owner: Option<Owner>,
    /// Held while this process uses the directory; the kernel releases it
    /// when the process ends, even by `kill -9`.
    _lock: File,
    running: bool,
}

#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
}

/// Points the settings at the cluster in `data_dir`: its database, with
/// the schema applied. A database URL given anyway is not used, and the
/// start-up log says so.
pub fn configure(loaded: &mut Loaded, data_dir: &Path) -> Result<(), String> {
    let replaced = loaded.replace(
        "kafkaesque.database.url",
        &database_url(data_dir)?,
        Origin::Dev,
    )?;
    if replaced != Origin::Default {
        loaded.warnings.push(format!(
            "kafkaesque dev uses its own PostgreSQL in {}; the database URL of {replaced} is not used",
            data_dir.display()
        ));
    }
    loaded.replace("kafkaesque.init.schema", "true", Origin::Dev)?;
    Ok(())
}

/// The database URL of the cluster in `data_dir`, which need not exist yet.
fn database_url(data_dir: &Path) -> Result<String, String> {
    let cluster = absolute(data_dir)?.join(CLUSTER_DIR);
    let socket_dir = cluster
        .to_str()
        .ok_or_else(|| format!("--data-dir {} is not valid UTF-8", data_dir.display()))?;
    Ok(url_for(socket_dir, DATABASE))
}

/// A URL for `database` over the Unix socket in `socket_dir` (the host
/// percent-encoded, as a URL host must be).
fn url_for(socket_dir: &str, database: &str) -> String {
    let mut host = String::new();
    for byte in socket_dir.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            host.push(char::from(byte));
        } else {
            host.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("postgres://postgres@{host}/{database}?sslmode=disable")
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("--data-dir {}: {e}", path.display()))
}

impl DevPostgres {
    /// Creates the cluster in `data_dir` if it is not there yet, starts it
    /// (or reuses the one a killed broker left running), and makes sure the
    /// broker's database exists.
    pub fn start(data_dir: &Path) -> Result<DevPostgres, String> {
        let dir = absolute(data_dir)?;
        let owner = server_owner(&dir)?;
        fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create --data-dir {}: {e}", dir.display()))?;
        let lock = lock(&dir)?;
        let cluster = dir.join(CLUSTER_DIR);
        let socket_len = cluster.as_os_str().len() + "/.s.PGSQL.5432".len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(format!(
                "--data-dir {} is too long a path for PostgreSQL's Unix socket ({socket_len} bytes of at most {MAX_SOCKET_PATH}); use a shorter --data-dir",
                dir.display()
            ));
        }
        let existing = fs::read_to_string(cluster.join("PG_VERSION"))
            .ok()
            .map(|v| v.trim().to_string());
        if existing.is_none() && cluster.exists() {
            return Err(format!(
                "{} exists but holds no PostgreSQL cluster; remove it, or use another --data-dir",
                cluster.display()
            ));
        }
        let bin = find_bindir(&candidate_bindirs(), existing.as_deref())?;
        let mut pg = DevPostgres {
            bin,
            cluster,
            owner,
            _lock: lock,
            running: false,
        };
        if existing.is_none() {
            pg.create_cluster(&dir)?;
        }
        pg.write_socket_settings()?;
        pg.start_server()?;
        pg.create_database()?;
        log::info!(
            "PostgreSQL in {dir}; connect with: psql -h {dir}/{CLUSTER_DIR} -U postgres {DATABASE}",
            dir = dir.display()
        );
        Ok(pg)
    }

    /// Stops the server (a fast shutdown: connections are closed, the
    /// data checkpointed).
    pub fn stop(mut self) -> Result<(), String> {
        self.stop_server()
    }

    fn stop_server(&mut self) -> Result<(), String> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let cluster = self.cluster_arg();
        let out = self.run(
            "pg_ctl",
            &["-D", &cluster, "-m", "fast", "-w", "-t", "60", "stop"],
        )?;
        if out.status.success() {
            log::info!("stopped PostgreSQL");
            Ok(())
        } else {
            Err(format!("cannot stop PostgreSQL: {}", last_line(&out)))
        }
    }

    /// `initdb` into a scratch directory, renamed into place when complete:
    /// a run interrupted half way leaves nothing that looks like a cluster.
    fn create_cluster(&self, dir: &Path) -> Result<(), String> {
        let scratch = dir.join(format!("{CLUSTER_DIR}.initdb"));
        if scratch.exists() {
            fs::remove_dir_all(&scratch)
                .map_err(|e| format!("cannot remove {}: {e}", scratch.display()))?;
        }
        fs::create_dir(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        self.give_to_owner(&scratch)?;
        let scratch_arg = scratch.to_string_lossy().into_owned();
        log::info!(
            "creating a PostgreSQL cluster in {} (first run)",
            self.cluster.display()
        );
        let out = self.run(
            "initdb",
            &[
                "-D",
                &scratch_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        )?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", last_line(&out)));
        }
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(scratch.join("postgresql.conf"))
            .map_err(|e| format!("cannot open postgresql.conf: {e}"))?;
        conf.write_all(b"\n# kafkaesque dev: where the socket is, rewritten at every start\ninclude_if_exists = 'kafkaesque.conf'\n")
            .map_err(|e| format!("cannot write postgresql.conf: {e}"))?;
        fs::rename(&scratch, &self.cluster).map_err(|e| {
            format!(
                "cannot rename {} to {}: {e}",
                scratch.display(),
                self.cluster.display()
            )
        })
    }

    /// A Unix socket in the cluster's own directory, and no TCP port.
    /// Written at every start, so a moved data directory still works.
    fn write_socket_settings(&self) -> Result<(), String> {
        let dir = self
            .cluster
            .to_string_lossy()
            .replace('\\', "\\\\")
            .replace('\'', "''");
        let path = self.cluster.join("kafkaesque.conf");
        fs::write(
            &path,
            format!("listen_addresses = ''\nunix_socket_directories = '{dir}'\n"),
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.give_to_owner(&path)
    }

    fn start_server(&mut self) -> Result<(), String> {
        let cluster = self.cluster_arg();
        let status = self.run("pg_ctl", &["-D", &cluster, "status"])?;
        if status.status.success() {
            // A server left running by a broker that was killed.
            self.running = true;
            if self.connect("postgres").is_ok() {
                log::info!("reusing the PostgreSQL server an earlier run left running");
                return Ok(());
            }
            log::warn!(
                "a PostgreSQL server left running does not answer on its socket; restarting it"
            );
            self.stop_server()?;
        }
        let log_file = self
            .cluster
            .join("server.log")
            .to_string_lossy()
            .into_owned();
        let out = self.run(
            "pg_ctl",
            &["-D", &cluster, "-l", &log_file, "-w", "-t", "60", "start"],
        )?;
        if !out.status.success() {
            return Err(format!(
                "PostgreSQL did not start ({}); its log is {log_file}",
                last_line(&out)
            ));
        }
        self.running = true;
        Ok(())
    }

    fn create_database(&self) -> Result<(), String> {
        let mut client = self.connect("postgres")?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
            .map_err(|e| format!("cannot query PostgreSQL: {e}"))?
            .is_some();
        if !exists {
            client
                .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
                .map_err(|e| format!("cannot create database {DATABASE}: {e}"))?;
        }
        Ok(())
    }

    fn connect(&self, database: &str) -> Result<postgres::Client, String> {
        let url = url_for(&self.cluster.to_string_lossy(), database);
        postgres::Client::connect(&url, postgres::NoTls).map_err(|e| {
            format!(
                "cannot connect to PostgreSQL in {}: {e}",
                self.cluster.display()
            )
        })
    }

    fn cluster_arg(&self) -> String {
        self.cluster.to_string_lossy().into_owned()
    }

    /// Runs a server program, as the server's owner when we are root. It
    /// runs in the data directory: PostgreSQL's programs fail if they
    /// cannot read the current directory, which root's may not let them.
    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        let path = self.bin.join(program);
        let mut command = Command::new(&path);
        command
            .args(args)
            .stdin(Stdio::null())
            .current_dir(self.cluster.parent().unwrap_or(Path::new("/")));
        if let Some(owner) = self.owner {
            command.uid(owner.uid).gid(owner.gid);
        }
        command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))
    }

    fn give_to_owner(&self, path: &Path) -> Result<(), String> {
        match self.owner {
            Some(owner) => std::os::unix::fs::chown(path, Some(owner.uid), Some(owner.gid))
                .map_err(|e| format!("cannot give {} to the postgres user: {e}", path.display())),
            None => Ok(()),
        }
    }
}

impl Drop for DevPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop_server() {
            log::error!("{e}");
        }
    }
}

/// One `kafkaesque dev` per data directory at a time.
fn lock(dir: &Path) -> Result<File, String> {
    let path = dir.join("kafkaesque.lock");
    let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "another kafkaesque dev is using {}; stop it first, or pass another --data-dir",
            dir.display()
        )),
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The user to run the server as: none (ourselves) unless we are root, when
/// it is `postgres`, who must be able to reach the data directory (checked
/// before it is created: what does not exist yet, root creates
/// world-searchable).
fn server_owner(dir: &Path) -> Result<Option<Owner>, String> {
    if effective_uid() != Some(0) {
        return Ok(None);
    }
    let owner = passwd_entry("postgres").ok_or_else(|| {
        "kafkaesque dev runs as root, which PostgreSQL refuses, and there is no postgres user to run it as: create one (useradd --system --user-group postgres) or run kafkaesque dev as an ordinary user".to_string()
    })?;
    for ancestor in dir.ancestors() {
        let meta = match fs::metadata(ancestor) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot inspect {}: {e}", ancestor.display())),
        };
        let mode = meta.mode();
        let can_enter = (meta.uid() == owner.uid && mode & 0o100 != 0)
            || (meta.gid() == owner.gid && mode & 0o010 != 0)
            || mode & 0o001 != 0;
        if !can_enter {
            return Err(format!(
                "kafkaesque dev runs PostgreSQL as the postgres user (it refuses root), who cannot enter {} (mode {:o}); pass a --data-dir it can reach, e.g. --data-dir /var/tmp/kafkaesque-data, or run as an ordinary user",
                ancestor.display(),
                mode & 0o7777
            ));
        }
    }
    Ok(Some(owner))
}

/// Our effective user id, from `/proc/self/status` (`Uid: real effective ...`).
fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn passwd_entry(user: &str) -> Option<Owner> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 3 && fields[0] == user).then_some(())?;
        Some(Owner {
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
        })
    })
}

/// Where PostgreSQL's server programs may be, in the order looked at: the
/// `PATH`, `pg_config --bindir`, then the distributions' versioned
/// directories, newest first.
fn candidate_bindirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    for pattern in ["/usr/lib/postgresql", "/usr"] {
        let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir(pattern)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // Debian: /usr/lib/postgresql/15/bin; RHEL: /usr/pgsql-15/bin.
                let version = if pattern == "/usr" {
                    name.strip_prefix("pgsql-")?.parse().ok()?
                } else {
                    name.parse().ok()?
                };
                Some((version, e.path().join("bin")))
            })
            .collect();
        versioned.sort_by(|a, b| b.0.cmp(&a.0));
        dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    }
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    dirs
}

/// The first directory holding `initdb`, `pg_ctl` and `postgres`; of the
/// major version `wanted` if the cluster exists already.
fn find_bindir(candidates: &[PathBuf], wanted: Option<&str>) -> Result<PathBuf, String> {
    let complete = candidates.iter().filter(|dir| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|program| dir.join(program).is_file())
    });
    let mut found = Vec::new();
    for dir in complete {
        let version = server_version(dir).unwrap_or_default();
        match wanted {
            None => return Ok(dir.clone()),
            Some(w) if version == w || version.starts_with(&format!("{w}.")) => {
                return Ok(dir.clone())
            }
            Some(_) => found.push(format!("{version} in {}", dir.display())),
        }
    }
    match wanted {
        None => Err(
            "no PostgreSQL server programs (initdb, pg_ctl, postgres) found in PATH, `pg_config --bindir` or /usr/lib/postgresql/*/bin; install PostgreSQL's server package (Debian/Ubuntu: apt-get install postgresql; Fedora/RHEL: dnf install postgresql-server)".to_string(),
        ),
        Some(w) => Err(format!(
            "the cluster in --data-dir was made by PostgreSQL {w}, and its server programs were not found (found: {}); install PostgreSQL {w}'s server package, or remove the data directory to start over",
            if found.is_empty() { "none".to_string() } else { found.join(", ") }
        )),
    }
}

/// "15.8" from `postgres --version` ("postgres (PostgreSQL) 15.8 (Debian ...)").
fn server_version(bindir: &Path) -> Option<String> {
    let out = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

/// The last line a program printed, for a one-line error.
fn last_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = |text: &str| {
        text.lines()
            .rfind(|l| !l.trim().is_empty())
            .map(str::to_string)
    };
    last(&stderr)
        .or_else(|| last(&stdout))
        .unwrap_or_else(|| "no output".to_string())
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_server_programs_is_one_line_naming_the_package() {
        let err = find_bindir(&[PathBuf::from("/nonexistent")], None).unwrap_err();
        assert!(!err.contains('\n'));
        assert!(err.contains("apt-get install postgresql"), "{err}");
    }

    #[test]
    fn the_socket_directory_is_percent_encoded_in_the_url() {
        assert_eq!(
            url_for("/tmp/my data/postgres", "kafkaesque"),
            "postgres://postgres@%2Ftmp%2Fmy%20data%2Fpostgres/kafkaesque?sslmode=disable"
        );
        let options =
            crate::storage::tls::ConnectOptions::parse(&url_for("/tmp/x y", "kq")).unwrap();
        assert_eq!(
            options.describe(),
            "postgres://postgres@/tmp/x y:5432/kq?sslmode=disable"
        );
    }
}
