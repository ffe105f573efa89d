//! PostgreSQL outages.
//!
//! - Under load: the test's own PostgreSQL server (a fresh cluster, see
//!   `test/common/private_postgres.rs`) is restarted with `pg_ctl restart
//!   -m immediate` (a crash and recovery) while idempotent producers write. The broker keeps running,
//!   the clients carry on by themselves once the database is back, and
//!   nothing acknowledged is lost or duplicated.
//! - At start-up: with PostgreSQL unreachable the broker exits at once with
//!   one clear line, or with `--wait-for-database SECONDS` says so once and
//!   retries with backoff, starting as soon as the database answers.
//!
//! The machine's shared server at 127.0.0.1:5432 is never restarted, so
//! tests running beside this one are not disturbed. `KQ_LONG=1` restarts
//! 5 times instead of once.

#[path = "reliability/support.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// The tests of this file must not overlap: one takes the server down.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn postgres_restart_under_load_loses_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Declared first, so it is dropped (stopped) after the broker.
    let postgres = PrivatePostgres::start();
    let mut broker = Broker::start_on("pgrestart", &postgres.server(), &[]);
    let pid = broker.pid();
    let topic = "pg-restart";
    create_topic(&broker.addr(), topic, 4);
    let workload = Workload::start(
        &broker.addr(),
        topic,
        4,
        2,
        &[("enable.idempotence", "true")],
    );
    let ledger = Arc::clone(&workload.ledger);

    let restarts = if long_run() { 5 } else { 1 };
    for round in 1..=restarts {
        wait_for_acks(
            &ledger,
            ledger.acked_count(),
            Duration::from_secs(60),
            "before restart",
        );
        std::thread::sleep(Duration::from_millis(500));
        let before = ledger.acked_count();
        let started = Instant::now();
        postgres.restart_immediate();
        let outage = started.elapsed();
        // The clients resume by themselves, against the same broker process.
        wait_for_acks(
            &ledger,
            ledger.acked_count(),
            Duration::from_secs(60),
            "after restart",
        );
        broker.assert_alive();
        assert_eq!(broker.pid(), pid);
        println!(
            "restart {round}/{restarts}: PostgreSQL down for {:.1} s; {before} acknowledged before, producing again {:.1} s after it went down",
            outage.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = workload.finish();
    let audit = audit(&mut broker.db.connect(), topic, &ledger);
    println!(
        "{restarts} PostgreSQL restarts: {sent} sent, {} acknowledged, {} failed, {} stored, {} lost",
        audit.acknowledged,
        ledger.failed_count(),
        audit.stored,
        audit.lost
    );
    assert_eq!(ledger.failed_count(), 0, "deliveries failed for good");
    let log = broker.log();
    assert!(
        log.contains("re-established") || log.contains("reconnect"),
        "no reconnection in the log:\n{log}"
    );
}

/// Runs the binary against an unreachable database and returns its exit
/// status and stderr.
fn start_without_database(
    url: &str,
    extra: &[&str],
) -> (std::process::ExitStatus, String, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_kafkaesque"))
        .args(["--listener", &format!("127.0.0.1:{}", free_port())])
        .args(["--database-url", url])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run kafkaesque");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status, stderr, started.elapsed())
}

#[test]
fn postgres_down_at_start_exits_with_one_line() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let (status, stderr, took) = start_without_database(&url, &[]);
    assert!(!status.success());
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(lines[0].contains("cannot reach PostgreSQL"), "{stderr}");
    assert!(lines[0].contains("--wait-for-database"), "{stderr}");

    // Waiting: one line saying so, retries, then the same clear exit.
    let (status, stderr, took) = start_without_database(&url, &["--wait-for-database", "3"]);
    assert!(!status.success());
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "expected a waiting line and an exit line:\n{stderr}"
    );
    assert!(lines[0].contains("retrying with backoff"), "{stderr}");
    assert!(lines[1].contains("after waiting 3 s"), "{stderr}");
}

/// Forwards every connection on `listener` to PostgreSQL: "the database
/// comes up" without touching the real server.
fn forward_to_postgres(listener: TcpListener) {
    for client in listener.incoming().flatten() {
        let Ok(server) = TcpStream::connect("127.0.0.1:5432") else {
            continue;
        };
        for (mut from, mut to) in [
            (client.try_clone().unwrap(), server.try_clone().unwrap()),
            (server, client),
        ] {
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 || to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to.shutdown(std::net::Shutdown::Both);
            });
        }
    }
}

#[test]
fn postgres_down_at_start_waits_and_starts_when_it_comes_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let db = TestDb::create();
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/{}", db.name);
    let listen = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkaesque"))
        .args([
            "--init-schema",
            "--listener",
            &format!("127.0.0.1:{listen}"),
        ])
        .args(["--database-url", &url, "--wait-for-database", "60"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kafkaesque");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited instead of waiting"
    );
    let came_up = Instant::now();
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the database port");
    std::thread::spawn(move || forward_to_postgres(listener));
    let addr = format!("127.0.0.1:{listen}");
    while api_versions_ok(&addr).is_err() {
        assert!(
            came_up.elapsed() < Duration::from_secs(20),
            "broker did not start after the database came up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "broker serving {:.1} s after the database came up",
        came_up.elapsed().as_secs_f64()
    );
    let _ = child.kill();
    let output = child.wait_with_output().expect("broker output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("retrying with backoff").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("is reachable after"), "{stderr}");
}
