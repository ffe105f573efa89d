//! Broker crash: producers with acks=all write at full speed to several
//! partitions while the broker is killed with SIGKILL at random moments and
//! restarted on the same database, again and again. Afterwards PostgreSQL
//! must hold every acknowledged record at its acknowledged offset, offsets
//! must be dense (no holes, no reuse), and no payload may be stored twice.
//!
//! Default: 3 kill/restart cycles per variant. `KQ_LONG=1`: 25 cycles.

#[path = "reliability/support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;
use support::*;

const PARTITIONS: i32 = 4;
const PRODUCERS: usize = 3;

fn cycles() -> usize {
    if long_run() {
        25
    } else {
        3
    }
}

/// Kills and restarts the broker under load `cycles()` times, then audits.
fn crash_cycles(label: &str, settings: &[(&str, &str)]) {
    let mut rng = Rng::from_env();
    let mut broker = Broker::start(label, &[]);
    let topic = format!("crash-{label}");
    create_topic(&broker.addr(), &topic, PARTITIONS);
    let workload = Workload::start(&broker.addr(), &topic, PARTITIONS, PRODUCERS, settings);
    let ledger = Arc::clone(&workload.ledger);

    let cycles = cycles();
    for cycle in 1..=cycles {
        // The producers must be making progress against this incarnation
        // (they reconnect by themselves after a restart).
        wait_for_acks(
            &ledger,
            ledger.acked_count(),
            Duration::from_secs(60),
            label,
        );
        std::thread::sleep(Duration::from_millis(rng.range(50, 1500)));
        broker.kill9();
        let at_kill = ledger.acked_count();
        std::thread::sleep(Duration::from_millis(rng.range(0, 500)));
        broker.restart();
        println!("{label}: cycle {cycle}/{cycles}: SIGKILL after {at_kill} acknowledgements");
    }
    wait_for_acks(
        &ledger,
        ledger.acked_count(),
        Duration::from_secs(60),
        label,
    );
    let sent = workload.finish();

    let audit = audit(&mut broker.db.connect(), &topic, &ledger);
    println!(
        "{label}: {cycles} crash cycles; {sent} records sent, {} acknowledged, {} failed \
         (not acknowledged), {} stored, {} stored without acknowledgement, {} lost",
        audit.acknowledged,
        ledger.failed_count(),
        audit.stored,
        audit.stored_unacknowledged,
        audit.lost
    );
    assert_eq!(audit.lost, 0);
    assert!(audit.acknowledged > 0, "nothing was acknowledged");
}

/// Plain producers. Retries are off so that a record can reach the broker
/// at most once: with retries, a non-idempotent producer may legitimately
/// write a record twice when a crash eats the acknowledgement (Kafka's
/// at-least-once), and the audit could not tell that from a broker bug.
#[test]
fn kill_9_loses_no_acknowledged_record() {
    crash_cycles("plain", &[("message.send.max.retries", "0")]);
}

/// Idempotent producers retry freely; the broker's producer state (kept in
/// PostgreSQL, so it survives the crash) must turn every retry of a
/// committed batch into its original offset, never a second copy.
#[test]
fn kill_9_leaves_idempotent_producers_without_duplicates() {
    crash_cycles("idempotent", &[("enable.idempotence", "true")]);
}
