//! Hostile input over real sockets: malformed frames, lengths, counts,
//! varints, record batches and compression bombs sent to the running
//! broker. Each must be answered with the Kafka error or a closed
//! connection; the broker must stay up, keep its memory bounded, and keep
//! serving other clients (a fresh ApiVersions after every case).

#[path = "reliability/support.rs"]
mod support;

use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::messages::{ProduceResponse, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafkaesque::protocol::compression::Compression;
use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;
use support::*;

const TOPIC: &str = "hostile";

/// How a case must end.
enum Expect {
    /// The broker closes the connection.
    Closed,
    /// The broker answers; the body starts with this error code (i16).
    ErrorCode(i16),
}

fn run_case(broker: &mut Broker, name: &str, bytes: &[u8], expect: Expect) {
    let mut conn = RawConn::connect(&broker.addr());
    // The broker may close before reading everything: ignore write errors.
    let _ = conn.stream.write_all(bytes);
    match expect {
        Expect::Closed => {
            let _ = conn.stream.shutdown(Shutdown::Write);
            assert!(
                conn.closed_within(Duration::from_secs(10)),
                "{name}: the connection stayed open"
            );
        }
        Expect::ErrorCode(code) => {
            let (_, body) = conn
                .read_response()
                .unwrap_or_else(|e| panic!("{name}: no answer ({e})"));
            let got = i16::from_be_bytes([body[0], body[1]]);
            assert_eq!(got, code, "{name}: error code");
        }
    }
    broker.assert_alive();
    api_versions_ok(&broker.addr())
        .unwrap_or_else(|e| panic!("{name}: the broker stopped serving others: {e}"));
}

fn frame_with_size(size: i32, rest: &[u8]) -> Vec<u8> {
    let mut frame = size.to_be_bytes().to_vec();
    frame.extend_from_slice(rest);
    frame
}

/// A Produce v3 request for one partition carrying `records` verbatim.
fn produce_frame(records: Vec<u8>) -> Vec<u8> {
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(records.into()))])]);
    let mut body = Vec::new();
    request.encode(&mut body, 3).expect("encode Produce");
    request_frame(0, 3, 1, &body)
}

/// Sends a Produce v3 and returns the partition's error code.
fn produce_error(broker: &mut Broker, name: &str, records: Vec<u8>) -> i16 {
    let mut conn = RawConn::connect(&broker.addr());
    conn.stream
        .write_all(&produce_frame(records))
        .expect("send Produce");
    let (_, body) = conn
        .read_response()
        .unwrap_or_else(|e| panic!("{name}: no Produce answer ({e})"));
    let response = ProduceResponse::decode(&mut bytes::Bytes::from(body), 3)
        .unwrap_or_else(|e| panic!("{name}: undecodable Produce answer: {e}"));
    broker.assert_alive();
    api_versions_ok(&broker.addr())
        .unwrap_or_else(|e| panic!("{name}: the broker stopped serving others: {e}"));
    response.responses[0].partition_responses[0].error_code
}

// Byte offsets in a record batch v2.
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const COUNT_AT: usize = 57;
const RECORDS_AT: usize = 61;

/// A valid one-record batch, uncompressed.
fn valid_batch() -> Vec<u8> {
    let mut out = Vec::new();
    let mut builder = kafkaesque::protocol::records::BatchBuilder::start(
        &mut out,
        0,
        1_700_000_000_000,
        0,
        -1,
        -1,
        -1,
        -1,
    );
    builder.push(&mut out, 0, 1_700_000_000_000, Some(b"k"), Some(b"v"), &[]);
    builder.finish(&mut out);
    out
}

/// Rewrites a batch's payload (compressed with `codec`), record count,
/// last offset delta, length and CRC.
fn batch_with_payload(codec: Compression, records: &[u8], count: i32) -> Vec<u8> {
    let mut batch = valid_batch()[..RECORDS_AT].to_vec();
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&codec.attribute_bits().to_be_bytes());
    batch[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    batch[COUNT_AT..RECORDS_AT].copy_from_slice(&count.to_be_bytes());
    batch.extend(codec.compress(records).expect("compress"));
    fix_crc(&mut batch);
    batch
}

fn fix_crc(batch: &mut [u8]) {
    let length = (batch.len() - 12) as i32;
    batch[8..12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    batch[CRC_AT..ATTRIBUTES_AT].copy_from_slice(&crc.to_be_bytes());
}

/// The smallest valid record (7 bytes: length, attributes, timestamp delta,
/// offset delta, null key, null value, no headers), `n` times.
fn tiny_records(n: usize) -> Vec<u8> {
    // Lengths are zigzag varints: 12 is 6, 1 is -1 (null).
    [12u8, 0, 0, 0, 1, 1, 0].repeat(n)
}

// Kafka error codes.
const CORRUPT_MESSAGE: i16 = 2;
const MESSAGE_TOO_LARGE: i16 = 10;
const UNSUPPORTED_VERSION: i16 = 35;
const INVALID_RECORD: i16 = 87;

#[test]
fn malformed_requests_get_an_error_or_a_closed_connection() {
    let mut broker = Broker::start("hostile", &["--max-request-bytes", "10485760"]);
    create_topic(&broker.addr(), TOPIC, 1);
    let rss_start = broker.rss_kib();

    // Framing.
    run_case(
        &mut broker,
        "negative length",
        &frame_with_size(-1, &[0; 8]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "huge length",
        &frame_with_size(i32::MAX, &[0; 8]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "truncated frame",
        &frame_with_size(100, &[0, 3, 0, 1]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "truncated header",
        &frame_with_size(3, &[0, 3, 0]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "empty frame",
        &frame_with_size(0, &[]),
        Expect::Closed,
    );
    let mut bad_client_id = request_frame(18, 0, 1, &[]);
    bad_client_id[12..14].copy_from_slice(&i16::MAX.to_be_bytes());
    run_case(
        &mut broker,
        "client id longer than the frame",
        &bad_client_id,
        Expect::Closed,
    );

    // Keys and versions.
    run_case(
        &mut broker,
        "unknown API key",
        &request_frame(999, 0, 1, &[]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "negative API key",
        &request_frame(-5, 0, 1, &[]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "unknown Metadata version",
        &request_frame(3, 99, 1, &[0; 4]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "unknown ApiVersions version (KIP-511)",
        &request_frame(18, 99, 1, &[]),
        Expect::ErrorCode(UNSUPPORTED_VERSION),
    );

    // Counts and lengths inside a body.
    let metadata_count = |count: i32| request_frame(3, 1, 1, &count.to_be_bytes());
    run_case(
        &mut broker,
        "huge array count",
        &metadata_count(i32::MAX),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "negative array count",
        &metadata_count(-2),
        Expect::Closed,
    );
    let mut long_name = 1i32.to_be_bytes().to_vec();
    long_name.extend(i16::MAX.to_be_bytes());
    long_name.extend(b"abc");
    run_case(
        &mut broker,
        "string longer than the frame",
        &request_frame(3, 1, 1, &long_name),
        Expect::Closed,
    );
    let mut negative_name = 1i32.to_be_bytes().to_vec();
    negative_name.extend((-7i16).to_be_bytes());
    run_case(
        &mut broker,
        "negative string length",
        &request_frame(3, 1, 1, &negative_name),
        Expect::Closed,
    );

    // Varints (flexible versions: Metadata v12 uses header v2 + compact arrays).
    let mut flexible = Vec::new();
    flexible.extend(3i16.to_be_bytes());
    flexible.extend(12i16.to_be_bytes());
    flexible.extend(1i32.to_be_bytes());
    flexible.extend((-1i16).to_be_bytes());
    let with_tail = |tail: &[u8]| {
        let mut body = flexible.clone();
        body.extend_from_slice(tail);
        frame_with_size(body.len() as i32, &body)
    };
    run_case(
        &mut broker,
        "over-long varint",
        &with_tail(&[0xff; 12]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "varint over 32 bits",
        &with_tail(&[0, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "huge compact array",
        &with_tail(&[0, 0xfe, 0xff, 0xff, 0xff, 0x07]),
        Expect::Closed,
    );
    run_case(
        &mut broker,
        "huge tagged field count",
        &with_tail(&[0xfe, 0xff, 0xff, 0xff, 0x07]),
        Expect::Closed,
    );

    // Record batches (Produce answers with a per-partition error).
    assert_eq!(
        produce_error(&mut broker, "valid batch", valid_batch()),
        0,
        "the control case must work"
    );
    let mut wrong_crc = valid_batch();
    wrong_crc[CRC_AT] ^= 0xff;
    assert_eq!(
        produce_error(&mut broker, "wrong CRC", wrong_crc),
        CORRUPT_MESSAGE
    );
    let mut wrong_magic = valid_batch();
    wrong_magic[MAGIC_AT] = 1;
    assert_eq!(
        produce_error(&mut broker, "wrong magic", wrong_magic),
        CORRUPT_MESSAGE
    );
    let truncated = valid_batch()[..40].to_vec();
    assert_eq!(
        produce_error(&mut broker, "truncated batch", truncated),
        CORRUPT_MESSAGE
    );
    let mut negative_length = valid_batch();
    negative_length[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    assert_eq!(
        produce_error(&mut broker, "negative batch length", negative_length),
        CORRUPT_MESSAGE
    );
    let mut huge_count = valid_batch();
    huge_count[COUNT_AT..RECORDS_AT].copy_from_slice(&i32::MAX.to_be_bytes());
    huge_count[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes());
    fix_crc(&mut huge_count);
    assert_eq!(
        produce_error(&mut broker, "huge record count", huge_count),
        INVALID_RECORD
    );
    let bad_varint = batch_with_payload(Compression::None, &[0xff; 12], 1);
    assert_eq!(
        produce_error(&mut broker, "invalid varint in a record", bad_varint),
        INVALID_RECORD
    );
    let mut bad_codec = valid_batch();
    bad_codec[ATTRIBUTES_AT + 1] |= 0x07;
    fix_crc(&mut bad_codec);
    let code = produce_error(&mut broker, "codec 7", bad_codec);
    assert_ne!(code, 0, "codec 7 accepted");

    // Compression bombs: a few KiB that inflate past the broker's limit
    // (128 MiB per request) are refused before they are inflated in full.
    let zeros = vec![0u8; 160 << 20];
    for codec in [
        Compression::Gzip,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Snappy,
    ] {
        let bomb = batch_with_payload(codec, &zeros, 1);
        println!(
            "{codec:?} bomb: {} bytes inflating to {} MiB",
            bomb.len(),
            zeros.len() >> 20
        );
        let code = produce_error(&mut broker, &format!("{codec:?} bomb"), bomb);
        assert!(
            code == MESSAGE_TOO_LARGE || code == CORRUPT_MESSAGE,
            "{codec:?} bomb: error code {code}"
        );
    }
    drop(zeros);

    let (rss_end, peak) = (broker.rss_kib(), broker.peak_rss_kib());
    println!(
        "broker RSS: {} MiB before the hostile cases, {} MiB after, peak {} MiB",
        rss_start >> 10,
        rss_end >> 10,
        peak >> 10
    );
    assert!(peak < 512 << 10, "broker RSS peaked at {} MiB", peak >> 10);
}

/// A bomb that stays *under* the decompression limit but is made of the
/// smallest possible records: every 7 inflated bytes become a record the
/// broker must hold, so the limit has to count records, not just bytes,
/// and has to hold for the whole request, not per partition.
#[test]
fn tiny_record_bombs_do_not_blow_up_memory() {
    let mut broker = Broker::start("tinybomb", &[]);
    create_topic(&broker.addr(), TOPIC, 1);
    let rss_start = broker.rss_kib();
    let records = tiny_records((60 << 20) / 7);
    let count = (records.len() / 7) as i32;
    let bomb = batch_with_payload(Compression::Zstd, &records, count);
    println!("zstd bomb: {} bytes for {count} records", bomb.len());
    let code = produce_error(&mut broker, "tiny-record bomb", bomb);
    let peak = broker.peak_rss_kib();
    println!(
        "tiny-record bomb answered with error {code}; broker RSS {} MiB before, peak {} MiB",
        rss_start >> 10,
        peak >> 10
    );
    assert_eq!(code, MESSAGE_TOO_LARGE);
    assert!(peak < 512 << 10, "broker RSS peaked at {} MiB", peak >> 10);
}
