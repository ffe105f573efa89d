//! The broker seen from a raw socket.
//!
//! 1. Old clients. kafka-python, kafkajs and sarama pin old, non-flexible
//!    versions of each API (ApiVersions v0, Metadata v1/v5, Produce v3/v7,
//!    Fetch v4/v11, ListOffsets v1). Requests here are encoded by the
//!    `kafka-protocol` crate, an implementation independent of ours, and
//!    its decoder checks every byte of our answers.
//! 2. Bad input: absurd frame sizes, unknown API keys and versions, garbage,
//!    invalid topic names and corrupt batches. Each must cost the sender its
//!    connection (or get the documented error code) and nobody else anything.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::api_versions_request::ApiVersionsRequest;
use kafka_protocol::messages::api_versions_response::ApiVersionsResponse;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreateTopicsRequest};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchRequest, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::metadata_request::{MetadataRequest, MetadataRequestTopic};
use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::messages::{BrokerId, TopicName};
use kafka_protocol::protocol::{Decodable, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const UNSUPPORTED_VERSION: i16 = 35;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const CORRUPT_MESSAGE: i16 = 2;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICATION_FACTOR: i16 = 38;

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// A v2 record batch (uncompressed) holding `values`, keyed `k0`, `k1`...
fn batch(values: &[&str], timestamp: i64) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // Non-idempotent: the batch's base sequence is -1. (The encoder
            // starts a new batch whenever offset - sequence changes.)
            sequence: i as i32 - 1,
            timestamp: timestamp + i as i64,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(v.to_string())),
            headers: IndexMap::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode record batch");
    buf.freeze()
}

fn produce_request(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

/// (error code, base offset) of the one partition in a Produce response.
fn produce(client: &mut RawClient, version: i16, topic: &str, records: Bytes) -> (i16, i64) {
    let response = client.send(&produce_request(topic, 0, -1, records), version);
    let p = &response.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

fn metadata_request(topics: &[&str]) -> MetadataRequest {
    MetadataRequest::default().with_topics(Some(
        topics
            .iter()
            .map(|t| MetadataRequestTopic::default().with_name(Some(name(t))))
            .collect(),
    ))
}

fn fetch_request(topic: &str, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20)])])
}

fn list_offsets(client: &mut RawClient, version: i16, topic: &str, timestamp: i64) -> (i16, i64) {
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(timestamp)])]);
    let response = client.send(&request, version);
    let p = &response.topics[0].partitions[0];
    (p.error_code, p.offset)
}

#[test]
fn classic_protocol_clients_at_old_versions() {
    let broker = Broker::start();
    let mut client = RawClient::connect(&broker);

    // ApiVersions v0: the first thing every old client sends.
    let versions = client.send(&ApiVersionsRequest::default(), 0);
    assert_eq!(versions.error_code, 0);
    for (key, wanted) in [
        (0, 3),
        (0, 7),
        (1, 4),
        (1, 11),
        (2, 1),
        (3, 1),
        (3, 5),
        (18, 0),
    ] {
        let api = versions
            .api_keys
            .iter()
            .find(|a| a.api_key == key)
            .unwrap_or_else(|| panic!("API key {key} not advertised"));
        assert!(
            (api.min_version..=api.max_version).contains(&wanted),
            "key {key} v{wanted} outside advertised {}..={}",
            api.min_version,
            api.max_version
        );
    }

    // Metadata v1 creates the topic (auto-creation is implied before v4).
    let topic = topic_name("classic");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let metadata = client.send(&metadata_request(&[&topic]), 1);
        assert_eq!(metadata.brokers.len(), 1);
        assert_eq!(metadata.brokers[0].port, i32::from(broker.port));
        let t = &metadata.topics[0];
        if t.error_code == 0 && t.partitions.len() == 1 {
            assert_eq!(t.partitions[0].leader_id, metadata.brokers[0].node_id);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "topic not created");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Metadata v5 sees it too, and v0 lists it among all topics.
    let metadata = client.send(&metadata_request(&[&topic]), 5);
    assert_eq!(metadata.topics[0].error_code, 0);
    assert_eq!(metadata.controller_id, metadata.brokers[0].node_id);
    let everything = client.send(&MetadataRequest::default().with_topics(Some(vec![])), 0);
    assert!(everything
        .topics
        .iter()
        .any(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(topic.as_str())));

    // Produce v3 then v7: offsets continue densely.
    let ts = now_ms();
    assert_eq!(
        produce(&mut client, 3, &topic, batch(&["a", "b", "c"], ts)),
        (0, 0)
    );
    assert_eq!(
        produce(&mut client, 7, &topic, batch(&["d", "e"], ts + 10)),
        (0, 3)
    );

    // Produce v3 with acks=0 gets no response: the next answer on the wire
    // belongs to the next request.
    client.send_only(&produce_request(&topic, 0, 0, batch(&["f"], ts + 20)), 3);
    let (code, latest) = list_offsets(&mut client, 1, &topic, -1);
    assert_eq!((code, latest), (0, 6));
    assert_eq!(list_offsets(&mut client, 1, &topic, -2), (0, 0));
    assert_eq!(list_offsets(&mut client, 1, &topic, ts + 11), (0, 4));

    // Fetch v4 and v11 return the same six records, byte for byte.
    for version in [4, 11] {
        let response = client.send(&fetch_request(&topic, 0), version);
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "fetch v{version}");
        assert_eq!(p.high_watermark, 6, "fetch v{version}");
        assert_eq!(p.last_stable_offset, 6, "fetch v{version}");
        let mut records = p.records.clone().expect("records");
        let sets = RecordBatchDecoder::decode_all(&mut records).expect("decode batches");
        let got: Vec<(i64, Option<Bytes>, Option<Bytes>)> = sets
            .iter()
            .flat_map(|s| &s.records)
            .map(|r| (r.offset, r.key.clone(), r.value.clone()))
            .collect();
        let keys = ["k0", "k1", "k2", "k0", "k1", "k0"];
        let want: Vec<(i64, Option<Bytes>, Option<Bytes>)> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (v, k))| (i as i64, Some(Bytes::from(k)), Some(Bytes::from(*v))))
            .collect();
        assert_eq!(got, want, "fetch v{version}");
        // Fetching from the end: nothing, no error.
        let response = client.send(&fetch_request(&topic, 6), version);
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        assert!(p.records.as_ref().is_none_or(|r| r.is_empty()));
        // Past the end: OFFSET_OUT_OF_RANGE.
        let response = client.send(&fetch_request(&topic, 7), version);
        assert_eq!(response.responses[0].partitions[0].error_code, 1);
    }
}

#[test]
fn oversized_frame_closes_only_that_connection() {
    let broker = Broker::start_with(&["--max-request-bytes", "4096"]);
    let mut bystander = RawClient::connect(&broker);
    assert_eq!(
        bystander.send(&ApiVersionsRequest::default(), 0).error_code,
        0
    );

    for size in [4097u32, 0x7fff_ffff, 0xffff_ffff] {
        let mut client = RawClient::connect(&broker);
        use std::io::Write;
        client.stream.write_all(&size.to_be_bytes()).unwrap();
        assert!(client.is_closed_by_broker(), "size {size} did not close");
    }
    // The client that behaved is still served.
    assert_eq!(
        bystander.send(&ApiVersionsRequest::default(), 3).error_code,
        0
    );
    assert!(
        broker.log().contains("--max-request-bytes"),
        "no log line says why the connection closed:\n{}",
        broker.log()
    );
}

#[test]
fn unknown_api_key_closes_the_connection() {
    let broker = Broker::start();
    let mut client = RawClient::connect(&broker);
    // api key 1000, version 0, correlation id 1, client id "x".
    let mut body = vec![0x03, 0xe8, 0, 0, 0, 0, 0, 1, 0, 1, b'x'];
    body.extend_from_slice(&[0; 8]);
    client.send_frame(&body);
    assert!(client.is_closed_by_broker());
    // An unsupported version of a known API (Metadata v99) too.
    let mut client = RawClient::connect(&broker);
    client.send_frame(&[0, 3, 0, 99, 0, 0, 0, 2, 0, 1, b'x', 0, 0, 0, 0]);
    assert!(client.is_closed_by_broker());
    assert_eq!(
        RawClient::connect(&broker)
            .send(&ApiVersionsRequest::default(), 0)
            .error_code,
        0
    );
}

#[test]
fn api_versions_from_the_future_is_answered_in_v0() {
    let broker = Broker::start();
    let mut client = RawClient::connect(&broker);
    // ApiVersions v99, correlation id 7, client id "future", a body we
    // cannot know the shape of.
    let mut body = vec![0, 18, 0, 99, 0, 0, 0, 7, 0, 6];
    body.extend_from_slice(b"future");
    body.extend_from_slice(&[1, 2, 3, 4, 5]);
    client.send_frame(&body);
    let frame = client.recv_frame().expect("a response, not a close");
    let mut buf = Bytes::from(frame);
    // Response header v0 (just the correlation id), then a v0 body.
    assert_eq!(&buf[..4], &7i32.to_be_bytes());
    let _ = buf.split_to(4);
    let response = ApiVersionsResponse::decode(&mut buf, 0).expect("v0 body");
    assert!(buf.is_empty(), "{} bytes after the v0 body", buf.len());
    assert_eq!(response.error_code, UNSUPPORTED_VERSION);
    let own = response
        .api_keys
        .iter()
        .find(|a| a.api_key == 18)
        .expect("ApiVersions is listed");
    assert_eq!(own.min_version, 0);
    assert!(own.max_version >= 3);
    // The client can then retry with a version we know, on the same socket.
    assert_eq!(client.send(&ApiVersionsRequest::default(), 3).error_code, 0);
}

#[test]
fn garbage_and_truncated_requests_close_the_connection_only() {
    let broker = Broker::start();
    let mut bystander = RawClient::connect(&broker);
    let frames: Vec<Vec<u8>> = vec![
        vec![],                       // empty frame: no header at all
        vec![0xde, 0xad, 0xbe],       // shorter than a header
        vec![0, 3, 0, 1, 0, 0, 0, 1], // header without client id
        // Metadata v1 claiming 1000 topics and carrying none.
        vec![0, 3, 0, 1, 0, 0, 0, 1, 0, 1, b'x', 0, 0, 0x03, 0xe8],
        // Produce v3 whose records length runs past the frame.
        vec![
            0, 0, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0, 0x27, 0x10, 0, 0, 0, 1, 0,
            1, b't', 0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3,
        ],
        // Fetch v11 with a negative array length and random tail.
        vec![
            0, 1, 0, 11, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xfe, 9, 9, 9,
        ],
        (0..=255u8).cycle().take(5000).collect(),
    ];
    for (i, frame) in frames.iter().enumerate() {
        let mut client = RawClient::connect(&broker);
        client.send_frame(frame);
        assert!(
            client.is_closed_by_broker(),
            "garbage frame {i} was not refused"
        );
    }
    // A frame cut off mid-way by a client that then disconnects.
    {
        use std::io::Write;
        let mut client = RawClient::connect(&broker);
        client.stream.write_all(&100u32.to_be_bytes()).unwrap();
        client.stream.write_all(&[0, 18, 0, 0]).unwrap();
    }
    let mut broker = broker;
    assert!(broker.is_running(), "the broker died");
    assert_eq!(
        bystander.send(&ApiVersionsRequest::default(), 0).error_code,
        0
    );
    assert_eq!(
        RawClient::connect(&broker)
            .send(&ApiVersionsRequest::default(), 2)
            .error_code,
        0
    );
}

#[test]
fn invalid_topic_names_get_invalid_topic_exception() {
    let broker = Broker::start();
    let mut client = RawClient::connect(&broker);
    let long = "a".repeat(250);
    let bad = [
        "",
        ".",
        "..",
        "has space",
        "slash/",
        "ünïcödé",
        long.as_str(),
    ];
    let metadata = client.send(&metadata_request(&bad), 5);
    assert_eq!(metadata.topics.len(), bad.len());
    for t in &metadata.topics {
        assert_eq!(
            t.error_code, INVALID_TOPIC_EXCEPTION,
            "metadata for {:?}",
            t.name
        );
    }
    // Produce never creates topics, and Kafka checks that a topic exists
    // before anything else (KafkaApis.handleProduceRequest), so a produce
    // to an invalid name is a produce to an unknown topic.
    for topic in bad {
        let (code, _) = produce(&mut client, 7, topic, batch(&["x"], now_ms()));
        assert_eq!(code, UNKNOWN_TOPIC_OR_PARTITION, "produce to {topic:?}");
    }
    // A valid name of exactly 249 characters is fine.
    let max = "m".repeat(249);
    let metadata = client.send(&metadata_request(&[&max]), 5);
    assert_eq!(metadata.topics[0].error_code, 0);
}

#[test]
fn corrupt_batches_get_corrupt_message() {
    let broker = Broker::start();
    let topic = topic_name("corrupt");
    create_topic(&broker, &topic, 1);
    let mut client = RawClient::connect(&broker);
    let good = batch(&["one", "two"], now_ms());

    // A flipped bit in the records: the CRC-32C no longer matches.
    let mut flipped = good.to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    assert_eq!(
        produce(&mut client, 7, &topic, Bytes::from(flipped)).0,
        CORRUPT_MESSAGE
    );

    // A wrong CRC field over intact records.
    let mut bad_crc = good.to_vec();
    bad_crc[17] ^= 0xff;
    assert_eq!(
        produce(&mut client, 3, &topic, Bytes::from(bad_crc)).0,
        CORRUPT_MESSAGE
    );

    // A batch cut short.
    let cut = good.slice(..good.len() - 3);
    assert_eq!(produce(&mut client, 7, &topic, cut).0, CORRUPT_MESSAGE);

    // None of it was stored; the good batch lands at offset 0.
    assert_eq!(produce(&mut client, 7, &topic, good), (0, 0));
    assert_eq!(list_offsets(&mut client, 1, &topic, -1), (0, 2));

    // Produce to a partition that does not exist.
    let response = client.send(&produce_request(&topic, 5, -1, batch(&["x"], now_ms())), 7);
    assert_eq!(
        response.responses[0].partition_responses[0].error_code,
        UNKNOWN_TOPIC_OR_PARTITION
    );
}

#[test]
fn create_topics_validates_every_topic_on_its_own() {
    let broker = Broker::start_with(&["--num-partitions", "2"]);
    let mut client = RawClient::connect(&broker);
    let topic = |n: &str, partitions: i32, replication: i16| {
        CreatableTopic::default()
            .with_name(name(n))
            .with_num_partitions(partitions)
            .with_replication_factor(replication)
    };
    let ok = topic_name("ok");
    let defaults = topic_name("defaults");
    let request = CreateTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            topic(&ok, 3, 1),
            topic("zero_partitions", 0, 1),
            topic("negative_partitions", -2, 1),
            topic("zero_replicas", 1, 0),
            topic("bad/name", 1, 1),
            topic(&defaults, -1, -1),
        ]);
    for version in [2, 5] {
        let response = client.send(&request, version);
        let got: Vec<(String, i16)> = response
            .topics
            .iter()
            .map(|t| (t.name.0.to_string(), t.error_code))
            .collect();
        // The first round creates the good ones; the second finds them.
        let created = if version == 2 {
            0
        } else {
            TOPIC_ALREADY_EXISTS
        };
        assert_eq!(
            got,
            vec![
                (ok.clone(), created),
                ("zero_partitions".into(), INVALID_PARTITIONS),
                ("negative_partitions".into(), INVALID_PARTITIONS),
                ("zero_replicas".into(), INVALID_REPLICATION_FACTOR),
                ("bad/name".into(), INVALID_TOPIC_EXCEPTION),
                (defaults.clone(), created),
            ],
            "CreateTopics v{version}"
        );
    }
    // (A factor above 1 is accepted on purpose: every replica is this node,
    // and tools written for clusters ask for 3. See create_topics.rs.)
    // -1 took the broker default (--num-partitions 2).
    let metadata = client.send(&metadata_request(&[&ok, &defaults]), 5);
    let partitions: Vec<usize> = metadata.topics.iter().map(|t| t.partitions.len()).collect();
    assert_eq!(partitions, vec![3, 2]);
}

/// Reads one response frame and decodes it as `R` at `version`; returns
/// its correlation id too.
fn recv_response<
    R: kafka_protocol::protocol::Decodable + kafka_protocol::protocol::HeaderVersion,
>(
    client: &mut RawClient,
    version: i16,
) -> (i32, R) {
    let frame = client.recv_frame().expect("response frame");
    let mut buf = Bytes::from(frame);
    let header =
        kafka_protocol::messages::ResponseHeader::decode(&mut buf, R::header_version(version))
            .expect("decode response header");
    let response = R::decode(&mut buf, version).expect("decode response body");
    (header.correlation_id, response)
}

#[test]
fn pipelined_produces_are_answered_in_order_with_dense_offsets() {
    use kafka_protocol::messages::metadata_response::MetadataResponse;
    use kafka_protocol::messages::produce_response::ProduceResponse;

    let broker = Broker::start();
    let topic = topic_name("pipelined");
    create_topic(&broker, &topic, 1);
    let mut client = RawClient::connect(&broker);
    let good = |i: usize| batch(&["a", "b", "c"], now_ms() + i as i64);
    let mut corrupt = good(99).to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x01;

    // Everything goes out before any answer is read, so the broker finds
    // the Produce requests waiting together and commits them together,
    // except that the Metadata request in the middle splits them, and an
    // acks=0 request gets no answer at all.
    enum Sent {
        Produce { correlation_id: i32, corrupt: bool },
        Metadata(i32),
    }
    let mut sent = Vec::new();
    for i in 0..12 {
        let bad = i == 4;
        let records = if bad {
            Bytes::from(corrupt.clone())
        } else {
            good(i)
        };
        let correlation_id = client.send_only(&produce_request(&topic, 0, -1, records), 9);
        sent.push(Sent::Produce {
            correlation_id,
            corrupt: bad,
        });
        if i == 7 {
            sent.push(Sent::Metadata(
                client.send_only(&metadata_request(&[&topic]), 9),
            ));
            client.send_only(&produce_request(&topic, 0, 0, good(100)), 9);
        }
    }

    let mut next_offset = 0;
    for expected in sent {
        match expected {
            Sent::Produce {
                correlation_id,
                corrupt,
            } => {
                let (id, response) = recv_response::<ProduceResponse>(&mut client, 9);
                assert_eq!(id, correlation_id, "answers come in request order");
                let p = &response.responses[0].partition_responses[0];
                if corrupt {
                    assert_eq!(p.error_code, CORRUPT_MESSAGE);
                } else {
                    assert_eq!((p.error_code, p.base_offset), (0, next_offset));
                    next_offset += 3;
                }
            }
            Sent::Metadata(correlation_id) => {
                let (id, response) = recv_response::<MetadataResponse>(&mut client, 9);
                assert_eq!(id, correlation_id);
                assert_eq!(response.topics[0].error_code, 0);
                // The acks=0 produce sent right after the Metadata request.
                next_offset += 3;
            }
        }
    }
    // 11 good acknowledged batches and the acks=0 one, nothing else.
    assert_eq!(list_offsets(&mut client, 1, &topic, -1), (0, 12 * 3));
}
