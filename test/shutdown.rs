//! Graceful shutdown: SIGTERM while producers write at full speed. Every
//! produce is either committed and acknowledged or not acknowledged at all
//! (none committed without its answer, none acknowledged and lost), and the
//! process exits 0 promptly.
//!
//! (Consumers in groups leaving cleanly is not covered here yet: the group
//! coordinator is being built on another branch.)

#[path = "reliability/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn sigterm_under_load_commits_or_refuses_and_exits_promptly() {
    let mut rng = Rng::from_env();
    let rounds = if long_run() { 10 } else { 2 };
    let mut broker = Broker::start("sigterm", &[]);
    let topic = "sigterm";
    create_topic(&broker.addr(), topic, 4);
    // Retries off: a record reaches the broker at most once, so "stored but
    // not acknowledged" can only mean an answer lost at shutdown.
    let workload = Workload::start(
        &broker.addr(),
        topic,
        4,
        3,
        &[("message.send.max.retries", "0")],
    );
    let ledger = Arc::clone(&workload.ledger);
    for round in 1..=rounds {
        wait_for_acks(
            &ledger,
            ledger.acked_count(),
            Duration::from_secs(60),
            "before SIGTERM",
        );
        std::thread::sleep(Duration::from_millis(rng.range(100, 1000)));
        let asked = Instant::now();
        broker.sigterm();
        let status = broker
            .wait_exit(Duration::from_secs(15))
            .unwrap_or_else(|| panic!("no exit within 15 s of SIGTERM:\n{}", broker.log()));
        let took = asked.elapsed();
        assert!(status.success(), "exit status {status}:\n{}", broker.log());
        println!(
            "round {round}/{rounds}: exited 0 {:.0} ms after SIGTERM",
            took.as_secs_f64() * 1000.0
        );
        assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
        broker.restart();
    }
    wait_for_acks(
        &ledger,
        ledger.acked_count(),
        Duration::from_secs(60),
        "after restart",
    );
    let sent = workload.finish();
    let audit = audit(&mut broker.db.connect(), topic, &ledger);
    println!(
        "{rounds} SIGTERMs: {sent} sent, {} acknowledged, {} not acknowledged, {} stored, {} stored without acknowledgement, {} lost",
        audit.acknowledged,
        ledger.failed_count(),
        audit.stored,
        audit.stored_unacknowledged,
        audit.lost
    );
    assert_eq!(
        audit.stored_unacknowledged, 0,
        "committed produces whose answer was dropped at shutdown"
    );
}
