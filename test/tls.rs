//! TLS to PostgreSQL: the real binary started with each `sslmode`, against
//! the local PostgreSQL with its self-signed ("snakeoil") certificate,
//! whose only name is `localhost`.
//!
//! What is checked is what the server sees: `pg_stat_ssl` for every session
//! the broker opened (the start-up connection and the pool's), and, when a
//! mode must refuse, that the broker exits non-zero with one clear line.

mod common;

use common::*;
use rdkafka::producer::BaseRecord;
use std::fs::{self, OpenOptions};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The certificate the local PostgreSQL serves (Debian's default), which
/// is its own CA.
const SERVER_CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
const SERVER_KEY: &str = "/etc/ssl/private/ssl-cert-snakeoil.key";

/// A plain superuser connection to the test server.
fn superuser() -> postgres::Client {
    postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {PG_SERVER}: {e}"))
}

/// Makes sure the local PostgreSQL offers TLS with [`SERVER_CERT`]: Debian
/// clusters do out of the box; one that does not is switched on here, the
/// way an administrator would (ALTER SYSTEM and a reload, no restart).
fn ensure_server_tls() {
    let mut db = superuser();
    let show = |db: &mut postgres::Client, what: &str| -> String {
        db.query_one(&format!("SHOW {what}"), &[])
            .map(|r| r.get(0))
            .unwrap_or_default()
    };
    if show(&mut db, "ssl") == "on" {
        return;
    }
    assert!(
        Path::new(SERVER_CERT).exists(),
        "PostgreSQL has ssl = off and there is no {SERVER_CERT} to turn it on with \
         (apt-get install ssl-cert makes one)"
    );
    db.batch_execute(&format!(
        "ALTER SYSTEM SET ssl_cert_file = '{SERVER_CERT}';
             ALTER SYSTEM SET ssl_key_file = '{SERVER_KEY}';
             ALTER SYSTEM SET ssl = on;
             SELECT pg_reload_conf();"
    ))
    .expect("turning on ssl");
    let deadline = Instant::now() + Duration::from_secs(10);
    while show(&mut superuser(), "ssl") != "on" {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not turn ssl on; see its log"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// A broker process on `url`, or why it would not start.
struct Started {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// Starts the binary on `url`. `Ok` once it accepts Kafka clients; `Err`
/// with its stderr if it exits first.
fn start(db: &TestDb, url: &str) -> Result<Started, String> {
    let log = std::env::temp_dir().join(format!("kafkaesque-tls-{}.log", db.name));
    let stderr = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&log)
        .expect("create log file");
    let port = free_port();
    let child = broker_command()
        .args(["--init-schema", "--pool-size", "2"])
        .args(["--listener", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn kafkaesque");
    let mut started = Started { child, port, log };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = started.child.try_wait() {
            let stderr = fs::read_to_string(&started.log).unwrap_or_default();
            assert!(!status.success(), "exited 0 during start-up: {stderr}");
            return Err(stderr);
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(started);
        }
        assert!(Instant::now() < deadline, "did not start within 30 s");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether each of the broker's sessions in `db` is encrypted, as the
/// server reports it.
fn sessions_encrypted(db: &TestDb) -> Vec<bool> {
    superuser()
        .query(
            "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
              WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
            &[&db.name],
        )
        .expect("query pg_stat_ssl")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Runs one produce through the broker, so its pool has connected too.
fn produce_one(port: u16) {
    let mut config = rdkafka::ClientConfig::new();
    config
        .set("bootstrap.servers", format!("127.0.0.1:{port}"))
        .set("broker.address.family", "v4")
        .set("message.timeout.ms", "20000");
    let producer: rdkafka::producer::BaseProducer = config.create().expect("producer");
    producer
        .send(BaseRecord::<(), _>::to("tls-check").payload("x"))
        .expect("enqueue");
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(20)).expect("flush");
}

/// The broker serves on `url`, and every session it has open is (or is not)
/// encrypted.
fn assert_serves(db: &TestDb, url: &str, encrypted: bool) {
    // Sessions of a broker started before on this database end
    // asynchronously; wait them out so only this broker's are seen.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sessions_encrypted(db).is_empty() {
        assert!(Instant::now() < deadline, "old sessions linger");
        thread::sleep(Duration::from_millis(50));
    }
    let broker = start(db, url).unwrap_or_else(|stderr| panic!("{url}: {stderr}"));
    // The start-up session said in the banner; the pool's show here.
    produce_one(broker.port);
    let sessions = sessions_encrypted(db);
    assert!(!sessions.is_empty(), "{url}: no pool sessions");
    assert!(
        sessions.iter().all(|&ssl| ssl == encrypted),
        "{url}: encrypted sessions {sessions:?}, expected all {encrypted}"
    );
    let log = fs::read_to_string(&broker.log).unwrap_or_default();
    let banner = if encrypted {
        "TLS-encrypted"
    } else {
        "not encrypted"
    };
    assert!(
        log.contains(banner),
        "{url}: banner lacks {banner:?}: {log}"
    );
}

/// The broker refuses to start on `url` with one line containing `why`.
fn assert_refused(db: &TestDb, url: &str, why: &str) {
    let stderr = match start(db, url) {
        Ok(_) => panic!("{url}: started"),
        Err(stderr) => stderr,
    };
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("kafkaesque:"))
        .collect();
    assert_eq!(lines.len(), 1, "{url}: {stderr}");
    assert!(
        lines[0].contains(why),
        "{url}: {:?} lacks {why:?}",
        lines[0]
    );
}

fn url(db: &TestDb, host: &str, params: &str) -> String {
    format!("postgres://postgres@{host}:5432/{}?{params}", db.name)
}

#[test]
fn require_encrypts_without_verifying() {
    ensure_server_tls();
    let db = TestDb::create();
    assert_serves(&db, &url(&db, "127.0.0.1", "sslmode=require"), true);
}

#[test]
fn prefer_is_the_default_and_encrypts_when_offered() {
    ensure_server_tls();
    let db = TestDb::create();
    assert_serves(
        &db,
        &format!("postgres://postgres@127.0.0.1:5432/{}", db.name),
        true,
    );
}

#[test]
fn disable_connects_in_the_clear() {
    ensure_server_tls();
    let db = TestDb::create();
    assert_serves(&db, &url(&db, "127.0.0.1", "sslmode=disable"), false);
    // The key=value form too.
    assert_serves(
        &db,
        &format!(
            "host=127.0.0.1 port=5432 user=postgres dbname={} sslmode=disable",
            db.name
        ),
        false,
    );
}

#[test]
fn verify_full_needs_a_root_certificate() {
    ensure_server_tls();
    let db = TestDb::create();
    assert_refused(
        &db,
        &url(&db, "localhost", "sslmode=verify-full"),
        "add sslrootcert=",
    );
    assert_refused(
        &db,
        &url(&db, "localhost", "sslmode=verify-ca"),
        "add sslrootcert=",
    );
}

#[test]
fn verify_full_with_the_servers_ca_checks_chain_and_name() {
    ensure_server_tls();
    let db = TestDb::create();
    let root = format!("sslrootcert={SERVER_CERT}");
    // The certificate names "localhost".
    assert_serves(
        &db,
        &url(&db, "localhost", &format!("sslmode=verify-full&{root}")),
        true,
    );
    // ...and not 127.0.0.1: verify-full refuses, verify-ca does not care.
    assert_refused(
        &db,
        &url(&db, "127.0.0.1", &format!("sslmode=verify-full&{root}")),
        "does not name the host",
    );
    assert_serves(
        &db,
        &url(&db, "127.0.0.1", &format!("sslmode=verify-ca&{root}")),
        true,
    );
    // require with a root certificate verifies the chain, as in libpq.
    assert_serves(
        &db,
        &url(&db, "127.0.0.1", &format!("sslmode=require&{root}")),
        true,
    );
}

#[test]
fn a_root_certificate_that_did_not_sign_the_servers_is_refused() {
    ensure_server_tls();
    let db = TestDb::create();
    // Any public CA from the system store signed something else.
    let other_ca = fs::read_dir("/etc/ssl/certs")
        .expect("/etc/ssl/certs")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "pem")
                && !p.ends_with("ssl-cert-snakeoil.pem")
                && fs::read_to_string(p).is_ok_and(|s| s.contains("BEGIN CERTIFICATE"))
        })
        .expect("a CA certificate in /etc/ssl/certs (install ca-certificates)");
    for mode in ["verify-full", "verify-ca", "require"] {
        assert_refused(
            &db,
            &url(
                &db,
                "localhost",
                &format!("sslmode={mode}&sslrootcert={}", other_ca.display()),
            ),
            "is not signed by the CA in sslrootcert",
        );
    }
}

#[test]
fn a_missing_root_certificate_file_is_one_clear_line() {
    let db = TestDb::create();
    assert_refused(
        &db,
        &url(
            &db,
            "localhost",
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ),
        "cannot read sslrootcert /nonexistent/ca.pem",
    );
}
