//! `--metrics-listener`: scrape the real binary's `/metrics` before and
//! after known traffic and check the counters moved by exactly that much.
//! Exact request counts come from [`RawClient`] (one request, one count);
//! records and bytes from a real rdkafka producer and consumer.

mod common;

use common::*;
use kafka_protocol::messages::api_versions_request::ApiVersionsRequest;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsRequest, DeleteRecordsTopic,
};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchRequest, FetchTopic};
use kafka_protocol::messages::{BrokerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::RecordBatchDecoder;
use rdkafka::producer::BaseRecord;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A broker with metrics on a port of its own; returns it and that port.
fn broker_with_metrics() -> (Broker, u16) {
    let port = free_port();
    let broker = Broker::start_with(&["--metrics-listener", &format!("127.0.0.1:{port}")]);
    (broker, port)
}

/// One HTTP request; returns the status line, the headers and the body.
fn http(port: u16, method: &str, path: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to metrics");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: test\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {response:?}"));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

/// Every sample of a scrape: `name{labels}` to value.
fn scrape(port: u16) -> BTreeMap<String, f64> {
    let (status, _, body) = http(port, "GET", "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad sample line {line:?}"));
            let value = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}"));
            (series.to_string(), value)
        })
        .collect()
}

/// A sample's value, 0 if the series does not exist (yet).
fn get(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// Produces `count` records of `size` bytes to partition 0 and waits for
/// every acknowledgement.
fn produce_to_partition_0(broker: &Broker, topic: &str, count: usize, size: usize) {
    let producer = producer(broker, "none");
    let value = vec![7u8; size];
    for i in 0..count {
        producer
            .send(
                BaseRecord::<(), _>::to(topic)
                    .payload(&value[..])
                    .partition(0),
            )
            .unwrap_or_else(|(e, _)| panic!("enqueue record {i}: {e}"));
    }
    flush_all(&producer);
}

fn wire_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

#[test]
fn requests_errors_and_latency_are_counted_per_api_and_version() {
    let (broker, port) = broker_with_metrics();
    let before = scrape(port);
    let mut client = RawClient::connect(&broker);
    for _ in 0..3 {
        assert_eq!(client.send(&ApiVersionsRequest::default(), 3).error_code, 0);
    }
    // An ApiVersions version we do not know: answered (KIP-511), counted
    // as an error, not as a request served.
    // (Header: key 18, version 99, correlation id 7, client id "x".)
    client.send_frame(&[0, 18, 0, 99, 0, 0, 0, 7, 0, 1, b'x']);
    assert!(client.recv_frame().is_some(), "ApiVersions v99 answered");
    // A truncated Metadata v1 body: the connection is closed.
    let mut bad = RawClient::connect(&broker);
    bad.send_frame(&[0, 3, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0, 0, 0, 5]);
    assert!(bad.is_closed_by_broker());
    // An API key nobody has.
    let mut unknown = RawClient::connect(&broker);
    unknown.send_frame(&[0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff]);
    assert!(unknown.is_closed_by_broker());
    let after = scrape(port);

    let delta = |series: &str| get(&after, series) - get(&before, series);
    assert_eq!(
        delta(r#"kafkaesque_requests_total{api="ApiVersions",version="3"}"#),
        3.0
    );
    assert_eq!(
        delta(r#"kafkaesque_request_duration_seconds_count{api="ApiVersions"}"#),
        3.0
    );
    assert_eq!(
        delta(
            r#"kafkaesque_request_errors_total{api="ApiVersions",version="99",error="unsupported_version"}"#
        ),
        1.0
    );
    assert_eq!(
        delta(r#"kafkaesque_request_errors_total{api="Metadata",version="1",error="malformed"}"#),
        1.0
    );
    assert_eq!(
        delta(r#"kafkaesque_request_errors_total{api="999",version="0",error="unsupported_api"}"#),
        1.0
    );
    // The histogram is cumulative and its +Inf bucket is the count.
    let buckets: Vec<f64> = after
        .iter()
        .filter(|(k, _)| {
            k.starts_with(r#"kafkaesque_request_duration_seconds_bucket{api="ApiVersions","#)
        })
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.len() > 2, "{after:?}");
    assert_eq!(
        get(
            &after,
            r#"kafkaesque_request_duration_seconds_bucket{api="ApiVersions",le="+Inf"}"#
        ),
        get(
            &after,
            r#"kafkaesque_request_duration_seconds_count{api="ApiVersions"}"#
        )
    );
    assert!(get(&after, "kafkaesque_connections") >= 1.0, "{after:?}");
    assert_eq!(get(&after, "kafkaesque_pool_connections"), 4.0);
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("kafkaesque_build_info{version=")),
        "{after:?}"
    );
}

#[test]
fn produced_and_fetched_records_and_bytes_are_counted_per_topic() {
    let (broker, port) = broker_with_metrics();
    let topic = topic_name("metrics_records");
    create_topic(&broker, &topic, 1);
    let before = scrape(port);

    produce_to_partition_0(&broker, &topic, 10, 100);
    let produced = scrape(port);
    let delta = |now: &BTreeMap<String, f64>, series: &str| get(now, series) - get(&before, series);
    let labels = format!(r#"{{topic="{topic}"}}"#);
    assert_eq!(
        delta(
            &produced,
            &format!("kafkaesque_produced_records_total{labels}")
        ),
        10.0
    );
    let bytes = delta(
        &produced,
        &format!("kafkaesque_produced_bytes_total{labels}"),
    );
    // Ten 100-byte values plus batch and record overhead.
    assert!((1000.0..4000.0).contains(&bytes), "produced bytes {bytes}");
    assert_eq!(
        get(
            &produced,
            &format!(r#"kafkaesque_log_end_offset{{topic="{topic}",partition="0"}}"#)
        ),
        10.0
    );
    assert_eq!(
        get(
            &produced,
            &format!(r#"kafkaesque_log_start_offset{{topic="{topic}",partition="0"}}"#)
        ),
        0.0
    );
    assert!(delta(&produced, "kafkaesque_pool_wait_seconds_count") >= 1.0);

    let consumer = assigned_consumer(&broker, &topic, 1);
    assert_eq!(consume(&consumer, 10, Duration::from_secs(20)).len(), 10);
    let fetched = scrape(port);
    assert_eq!(
        delta(
            &fetched,
            &format!("kafkaesque_fetched_records_total{labels}")
        ),
        10.0
    );
    let bytes = delta(&fetched, &format!("kafkaesque_fetched_bytes_total{labels}"));
    assert!((1000.0..4000.0).contains(&bytes), "fetched bytes {bytes}");
}

/// Fetch v11 of partition 0 from `offset`, at most `max_bytes` of it.
fn fetch_from(topic: &str, offset: i64, max_bytes: i32) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(50 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(wire_name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(max_bytes)])])
}

/// Fetches and returns (error code, offsets of the records returned).
fn fetch_offsets(client: &mut RawClient, topic: &str, offset: i64) -> (i16, Vec<i64>) {
    let response = client.send(&fetch_from(topic, offset, 10_000), 11);
    let p = &response.responses[0].partitions[0];
    let mut records = p.records.clone().unwrap_or_default();
    let batches = RecordBatchDecoder::decode_all(&mut records).expect("decode batches");
    let offsets = batches
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| r.offset)
        .collect();
    (p.error_code, offsets)
}

#[test]
fn a_consumer_reading_a_backlog_finds_its_next_read_queued() {
    let (broker, port) = broker_with_metrics();
    let topic = topic_name("metrics_read_ahead");
    create_topic(&broker, &topic, 1);
    produce_to_partition_0(&broker, &topic, 100, 1000);
    let before = scrape(port);
    let delta = |series: &str| get(&scrape(port), series) - get(&before, series);
    let used = r#"kafkaesque_fetch_read_ahead_total{result="used"}"#;
    let unused = r#"kafkaesque_fetch_read_ahead_total{result="unused"}"#;

    // 10,000 bytes hold nine of these records: each answer continues
    // exactly where the last one ended, from the read queued for it.
    let mut client = RawClient::connect(&broker);
    let mut next = 0;
    let mut answers = 0;
    while next < 100 {
        let (code, offsets) = fetch_offsets(&mut client, &topic, next);
        assert_eq!(code, 0);
        assert!(!offsets.is_empty(), "no records from offset {next}");
        let want: Vec<i64> = (next..next + offsets.len() as i64).collect();
        assert_eq!(offsets, want, "dense, in order, from {next}");
        next += offsets.len() as i64;
        answers += 1;
    }
    assert_eq!(
        delta(used),
        f64::from(answers - 1),
        "every answer but the first was read ahead"
    );
    assert_eq!(
        delta(unused),
        0.0,
        "the last answer reached the end: nothing queued"
    );

    // A seek back: the read queued for offset 9 is dropped unused, and the
    // answer is what the seek asked for.
    fetch_offsets(&mut client, &topic, 0);
    let (_, again) = fetch_offsets(&mut client, &topic, 50);
    assert_eq!(again.first(), Some(&50));
    assert_eq!(delta(unused), 1.0);

    // Records deleted under a queued read: the Fetch answers
    // OFFSET_OUT_OF_RANGE rather than what was read before the delete.
    let (_, from_fifty) = fetch_offsets(&mut client, &topic, 50);
    let queued_from = *from_fifty.last().expect("records") + 1;
    let delete = DeleteRecordsRequest::default().with_topics(vec![DeleteRecordsTopic::default()
        .with_name(wire_name(&topic))
        .with_partitions(vec![DeleteRecordsPartition::default()
            .with_partition_index(0)
            .with_offset(90)])]);
    let deleted = RawClient::connect(&broker).send(&delete, 2);
    assert_eq!(deleted.topics[0].partitions[0].error_code, 0);
    let (code, offsets) = fetch_offsets(&mut client, &topic, queued_from);
    assert_eq!(
        (code, offsets),
        (1, vec![]),
        "fetch from {queued_from} after deleting up to 90"
    );
}

#[test]
fn long_polling_fetches_are_gauged_while_they_wait() {
    let (broker, port) = broker_with_metrics();
    let topic = topic_name("metrics_long_poll");
    create_topic(&broker, &topic, 2);
    let mut client = RawClient::connect(&broker);
    // Nothing to read: the fetch waits up to 3 s for either partition.
    let fetch = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(3000)
        .with_min_bytes(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(wire_name(&topic))
            .with_partitions(
                (0..2)
                    .map(|p| {
                        FetchPartition::default()
                            .with_partition(p)
                            .with_fetch_offset(0)
                            .with_partition_max_bytes(1 << 20)
                    })
                    .collect(),
            )]);
    client.send_only(&fetch, 12);
    std::thread::sleep(Duration::from_millis(500));
    // One fetch, however many partitions it waits on.
    assert_eq!(get(&scrape(port), "kafkaesque_fetch_long_polls"), 1.0);
    assert!(client.recv_frame().is_some(), "fetch answered");
    assert_eq!(get(&scrape(port), "kafkaesque_fetch_long_polls"), 0.0);
}

#[test]
fn the_endpoint_speaks_just_enough_http() {
    let (_broker, port) = broker_with_metrics();
    let (status, headers, body) = http(port, "GET", "/metrics?x=1");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains("Content-Type: text/plain; version=0.0.4"),
        "{headers}"
    );
    assert!(
        headers.contains(&format!("Content-Length: {}", body.len())),
        "{headers}"
    );
    assert!(
        body.contains("# TYPE kafkaesque_connections gauge"),
        "{body}"
    );
    let (status, _, _) = http(port, "GET", "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, _, _) = http(port, "POST", "/metrics");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
}
