//! Load: waves of 2,000 concurrent connections opening, asking ApiVersions
//! and closing, while producers and consumers keep working, a slowloris
//! client sends one byte per second and another announces a 10 MB request
//! and sends nothing. Nobody waits behind them (a probe connection's
//! ApiVersions latency stays low), the clients keep making progress, and
//! the broker's memory stays bounded.
//!
//! Default: 3 waves, 10 producer/consumer pairs (~30 s). `KQ_LONG=1`:
//! 30 waves, 100 pairs (200 clients) for at least 3 minutes.

#[path = "reliability/support.rs"]
mod support;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const CONNECTIONS: usize = 2_000;

#[test]
fn connection_storms_and_slow_clients_stall_nobody() {
    let long = long_run();
    let (waves, pairs, min_duration) = if long {
        (30, 100, Duration::from_secs(180))
    } else {
        (3, 10, Duration::from_secs(0))
    };
    let mut broker = Broker::start("load", &[]);
    let topic = "load";
    create_topic(&broker.addr(), topic, pairs);
    let rss_idle = broker.rss_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let consumed = Arc::new(AtomicU64::new(0));
    let produced = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();

    // Producer/consumer pairs, one partition each.
    for pair in 0..pairs {
        let addr = broker.addr();
        let (stop_producing, produced) = (Arc::clone(&stop), Arc::clone(&produced));
        threads.push(std::thread::spawn(move || {
            let producer: ThreadedProducer<_> = ClientConfig::new()
                .set("bootstrap.servers", &addr)
                .set("linger.ms", "5")
                .create()
                .expect("producer");
            let mut n = 0u64;
            while !stop_producing.load(Ordering::Relaxed) {
                let payload = format!("pair{pair}-{n}");
                if producer
                    .send(
                        BaseRecord::<(), _>::to(topic)
                            .partition(pair)
                            .payload(&payload),
                    )
                    .is_ok()
                {
                    n += 1;
                    produced.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = producer.flush(Duration::from_secs(30));
        }));
        let addr = broker.addr();
        let (stop_consuming, consumed) = (Arc::clone(&stop), Arc::clone(&consumed));
        threads.push(std::thread::spawn(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &addr)
                .set("group.id", "unused-no-groups")
                .set("enable.auto.commit", "false")
                .set("fetch.wait.max.ms", "100")
                .create()
                .expect("consumer");
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(topic, pair, Offset::Beginning)
                .expect("assignment");
            consumer.assign(&assignment).expect("assign");
            while !stop_consuming.load(Ordering::Relaxed) {
                if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                    assert_eq!(message.partition(), pair);
                    consumed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    // A slowloris: one byte of a valid request per second, forever.
    let addr = broker.addr();
    let slow_stop = Arc::clone(&stop);
    threads.push(std::thread::spawn(move || {
        let mut slow = TcpStream::connect(&addr).expect("slowloris connect");
        let frame = request_frame(18, 0, 1, &[]);
        for byte in frame.iter().cycle() {
            if slow_stop.load(Ordering::Relaxed) || slow.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }));
    // A client that announces 10 MB and sends nothing more.
    let mut announcer = TcpStream::connect(broker.addr()).expect("connect");
    announcer
        .write_all(&(10_000_000i32).to_be_bytes())
        .expect("announce");

    // A probe: ApiVersions on one connection, timed, all along.
    let worst_probe = Arc::new(Mutex::new(Duration::ZERO));
    let probes = Arc::new(AtomicU64::new(0));
    {
        let (addr, stop, worst, probes) = (
            broker.addr(),
            Arc::clone(&stop),
            Arc::clone(&worst_probe),
            Arc::clone(&probes),
        );
        threads.push(std::thread::spawn(move || {
            let mut conn = TcpStream::connect(&addr).expect("probe connect");
            conn.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                api_versions_on(&mut conn).expect("probe ApiVersions");
                let took = started.elapsed();
                let mut worst = worst.lock().unwrap();
                *worst = (*worst).max(took);
                probes.fetch_add(1, Ordering::Relaxed);
                drop(worst);
                std::thread::sleep(Duration::from_millis(20));
            }
        }));
    }

    let started = Instant::now();
    let mut wave = 0;
    let mut peak_open = 0;
    while wave < waves || started.elapsed() < min_duration {
        wave += 1;
        let consumed_before = consumed.load(Ordering::Relaxed);
        let wave_started = Instant::now();
        let mut open = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            open.push(TcpStream::connect(broker.addr()).expect("connect during a storm"));
        }
        let connected_in = wave_started.elapsed();
        let mut failures = 0;
        for conn in &mut open {
            conn.set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            if api_versions_on(conn).is_err() {
                failures += 1;
            }
        }
        peak_open = peak_open.max(open.len());
        let rss_open = broker.rss_kib();
        drop(open);
        assert_eq!(
            failures, 0,
            "wave {wave}: {failures} of {CONNECTIONS} connections got no answer"
        );
        println!(
            "wave {wave}: {CONNECTIONS} connections opened in {:.1} s, answered and closed in {:.1} s; RSS with them open {} MiB",
            connected_in.as_secs_f64(),
            wave_started.elapsed().as_secs_f64(),
            rss_open >> 10
        );
        // The pairs kept working through the storm.
        let deadline = Instant::now() + Duration::from_secs(30);
        while consumed.load(Ordering::Relaxed) <= consumed_before {
            assert!(
                Instant::now() < deadline,
                "wave {wave}: consumers made no progress"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        broker.assert_alive();
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    drop(announcer);
    for thread in threads {
        thread.join().expect("client thread");
    }
    // Let the connection threads of the storms exit before measuring.
    std::thread::sleep(Duration::from_secs(1));
    let (rss_end, rss_peak) = (broker.rss_kib(), broker.peak_rss_kib());
    let worst = *worst_probe.lock().unwrap();
    println!(
        "load: {wave} waves of {CONNECTIONS} connections, {pairs} producer/consumer pairs for {:.0} s: \
         {} produced, {} consumed; probe worst ApiVersions latency {} ms over {} probes; \
         RSS idle {} MiB, peak {} MiB, end {} MiB",
        started.elapsed().as_secs_f64(),
        produced.load(Ordering::Relaxed),
        consumed.load(Ordering::Relaxed),
        worst.as_millis(),
        probes.load(Ordering::Relaxed),
        rss_idle >> 10,
        rss_peak >> 10,
        rss_end >> 10
    );
    assert!(worst < Duration::from_secs(2), "a probe waited {worst:?}");
    assert!(
        rss_peak < 1024 << 10,
        "broker RSS peaked at {} MiB",
        rss_peak >> 10
    );
    assert!(
        rss_end < 256 << 10,
        "broker RSS stayed at {} MiB",
        rss_end >> 10
    );
}
