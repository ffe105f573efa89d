//! Record batch v2 ("magic 2"), the unit in which Kafka stores and ships
//! records since 0.11 (KIP-98). Both the `records` field of a Produce
//! request and that of a Fetch response are a plain concatenation of these
//! batches.
//!
//! Layout (Kafka's `DefaultRecordBatch`), 61 bytes of header then records:
//!
//! ```text
//! BaseOffset i64 | Length i32 | PartitionLeaderEpoch i32 | Magic i8 (=2) | CRC u32
//! | Attributes i16 | LastOffsetDelta i32 | BaseTimestamp i64 | MaxTimestamp i64
//! | ProducerId i64 | ProducerEpoch i16 | BaseSequence i32 | RecordsCount i32 | Records...
//! ```
//!
//! `Length` counts the bytes after itself, so a batch occupies `12 + Length`
//! bytes. The CRC is CRC-32C (Castagnoli) over everything from `Attributes`
//! to the end of the batch: the base offset and the leader epoch are left out
//! so a broker can rewrite them without recomputing it. When the batch is
//! compressed (attribute bits 0-2, see [`super::compression`]) the header
//! stays in the clear and all records together form one compressed blob.
//!
//! Each record stores its offset and timestamp as deltas from the batch's
//! base values, in zig-zag varints:
//!
//! ```text
//! Length varint | Attributes i8 | TimestampDelta varlong | OffsetDelta varint
//! | KeyLength varint (-1 = null) | Key | ValueLength varint (-1 = null) | Value
//! | HeaderCount varint | [HeaderKeyLength varint | HeaderKey (UTF-8)
//!                        | HeaderValueLength varint (-1 = null) | HeaderValue]...
//! ```

use std::fmt;

use super::compression::Compression;
use super::primitives::{DecodeError, Reader, Writer};
use super::ErrorCode;

/// Why a `records` field was refused. Each kind maps to the error code Kafka
/// answers a producer with (see [`RecordError::error_code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes are damaged: a bad CRC, a wrong magic, a truncated batch, a
    /// batch length that does not add up, undecodable compressed data.
    Corrupt(String),
    /// The batch arrived intact but breaks Kafka's rules: a record count that
    /// disagrees with the records present, `LastOffsetDelta + 1 != count`, a
    /// malformed record inside a batch whose CRC is good, a header key that
    /// is not UTF-8. Kafka's `DefaultRecord` raises `InvalidRecordException`
    /// for all of these, and clients do not retry them.
    InvalidRecord(String),
    /// Attribute bits 0-2 name a codec that does not exist (5, 6 or 7).
    UnsupportedCompression,
    /// The records decompress to more than the caller allows.
    TooLarge(String),
}

impl RecordError {
    /// The Kafka error code to answer with. For `TooLarge` the caller may
    /// prefer `RECORD_LIST_TOO_LARGE`; `MESSAGE_TOO_LARGE` is the default.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            RecordError::Corrupt(_) => ErrorCode::CorruptMessage,
            RecordError::InvalidRecord(_) => ErrorCode::InvalidRecord,
            RecordError::UnsupportedCompression => ErrorCode::UnsupportedCompressionType,
            RecordError::TooLarge(_) => ErrorCode::MessageTooLarge,
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Corrupt(why) => write!(f, "corrupt record batch: {why}"),
            RecordError::InvalidRecord(why) => write!(f, "invalid record: {why}"),
            RecordError::UnsupportedCompression => write!(f, "unsupported compression codec"),
            RecordError::TooLarge(why) => write!(f, "record batch too large: {why}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// The bits of a batch's `Attributes` field.
pub mod attributes {
    /// Bits 0-2: the compression codec.
    pub const COMPRESSION_MASK: i16 = 0x07;
    /// Bit 3: timestamps are the broker's append time, not the producer's
    /// create time; clients then read `MaxTimestamp` as every record's time.
    pub const TIMESTAMP_LOG_APPEND: i16 = 0x08;
    /// Bit 4: the batch belongs to a transaction (KIP-98).
    pub const TRANSACTIONAL: i16 = 0x10;
    /// Bit 5: the batch holds one control record (a COMMIT or ABORT marker).
    pub const CONTROL: i16 = 0x20;
    /// Bit 6: `BaseTimestamp` is the delete horizon set by compaction (KIP-534).
    pub const DELETE_HORIZON: i16 = 0x40;
}

/// The magic byte of record batch v2, the only format we read or write.
pub const MAGIC: i8 = 2;

/// `BaseOffset` + `Length`: the bytes in front of what `Length` counts.
const LOG_OVERHEAD: usize = 12;
/// The fixed header, up to and including `RecordsCount`.
const HEADER_LEN: usize = 61;
const CRC_OFFSET: usize = 17;
/// Where the CRC-covered bytes start.
const ATTRIBUTES_OFFSET: usize = 21;
/// The smallest possible encoded record (every field one byte).
const MIN_RECORD_LEN: usize = 7;

/// One record header: a UTF-8 key and an optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// One record, with its offset and timestamp relative to its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Unused by Kafka so far; producers write 0.
    pub attributes: i8,
    /// Added to the batch's `BaseTimestamp` to give the record's timestamp.
    pub timestamp_delta: i64,
    /// Added to the batch's `BaseOffset` to give the record's offset.
    pub offset_delta: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

/// A decoded record batch. `Length`, `CRC` and `RecordsCount` are not kept:
/// they are derived from the rest when the batch is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// Offset of the first record; the broker assigns it on append.
    pub base_offset: i64,
    /// Leader epoch of the broker that appended the batch (KIP-101); -1 from producers.
    pub partition_leader_epoch: i32,
    /// Codec and flags, see [`attributes`].
    pub attributes: i16,
    /// Offset delta of the last record: `RecordsCount - 1` in a batch as the
    /// producer sends it (compaction may later remove records and keep it).
    pub last_offset_delta: i32,
    /// Timestamp of the first record (or the delete horizon, see [`attributes::DELETE_HORIZON`]).
    pub base_timestamp: i64,
    /// Largest record timestamp, or the append time under `LogAppendTime`.
    pub max_timestamp: i64,
    /// Idempotent/transactional producer id (KIP-98); -1 when not idempotent.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// Sequence number of the first record, for duplicate detection; -1 when not idempotent.
    pub base_sequence: i32,
    pub records: Vec<Record>,
}

impl RecordBatch {
    pub fn compression(&self) -> Result<Compression, RecordError> {
        Compression::from_attributes(self.attributes)
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & attributes::TRANSACTIONAL != 0
    }

    pub fn is_control(&self) -> bool {
        self.attributes & attributes::CONTROL != 0
    }

    pub fn is_log_append_time(&self) -> bool {
        self.attributes & attributes::TIMESTAMP_LOG_APPEND != 0
    }

    /// Encodes the batch (compressing records with `self.attributes`' codec),
    /// computing Length and CRC. `LastOffsetDelta` and `MaxTimestamp` are
    /// written as they are in the struct. A batch without records is written
    /// as a bare header, as Kafka writes the empty batches compaction leaves.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        let compression = self.compression()?;
        let record_count = i32::try_from(self.records.len()).map_err(|_| {
            RecordError::TooLarge(format!("{} records in one batch", self.records.len()))
        })?;
        let mut payload = Writer::new();
        let mut body = Writer::new();
        for record in &self.records {
            body.buf.clear();
            write_record_body(
                &mut body,
                record.attributes,
                record.timestamp_delta,
                record.offset_delta,
                record.key.as_deref(),
                record.value.as_deref(),
                record
                    .headers
                    .iter()
                    .map(|h| (h.key.as_str(), h.value.as_deref())),
            );
            append_record(&mut payload, &body);
        }
        let payload = match compression {
            _ if self.records.is_empty() => Vec::new(),
            Compression::None => payload.into_inner(),
            codec => codec.compress(&payload.buf)?,
        };
        let length = i32::try_from(HEADER_LEN - LOG_OVERHEAD + payload.len())
            .map_err(|_| RecordError::TooLarge(format!("batch of {} bytes", payload.len())))?;

        let start = out.len();
        with_writer(out, |w| {
            write_header(w, self, length, record_count);
            w.raw(&payload);
        });
        patch_crc(out, start);
        Ok(())
    }
}

/// Runs `write` with a [`Writer`] that appends to `out`, without copying it.
fn with_writer(out: &mut Vec<u8>, write: impl FnOnce(&mut Writer)) {
    let mut writer = Writer {
        buf: std::mem::take(out),
    };
    write(&mut writer);
    *out = writer.buf;
}

/// The 61-byte header, with a zero CRC for [`patch_crc`] to fill in.
fn write_header(w: &mut Writer, batch: &RecordBatch, length: i32, record_count: i32) {
    w.i64(batch.base_offset);
    w.i32(length);
    w.i32(batch.partition_leader_epoch);
    w.i8(MAGIC);
    w.u32(0);
    w.i16(batch.attributes);
    w.i32(batch.last_offset_delta);
    w.i64(batch.base_timestamp);
    w.i64(batch.max_timestamp);
    w.i64(batch.producer_id);
    w.i16(batch.producer_epoch);
    w.i32(batch.base_sequence);
    w.i32(record_count);
}

/// Computes the CRC of the complete batch that starts at `start` in `out`.
fn patch_crc(out: &mut Vec<u8>, start: usize) {
    let crc = crc32c::crc32c(&out[start + ATTRIBUTES_OFFSET..]);
    with_writer(out, |w| w.patch_i32(start + CRC_OFFSET, crc as i32));
}

/// Writes a varint-length-prefixed byte string, -1 for null.
fn write_varint_bytes(w: &mut Writer, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => {
            w.varint(bytes.len() as i32);
            w.raw(bytes);
        }
        None => w.varint(-1),
    }
}

/// Writes everything of a record after its length prefix into `body`.
fn write_record_body<'a>(
    body: &mut Writer,
    attributes: i8,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: impl ExactSizeIterator<Item = (&'a str, Option<&'a [u8]>)>,
) {
    body.i8(attributes);
    body.varlong(timestamp_delta);
    body.varint(offset_delta);
    write_varint_bytes(body, key);
    write_varint_bytes(body, value);
    body.varint(headers.len() as i32);
    for (key, value) in headers {
        write_varint_bytes(body, Some(key.as_bytes()));
        write_varint_bytes(body, value);
    }
}

/// Appends a record body with its varint length in front.
fn append_record(w: &mut Writer, body: &Writer) {
    w.varint(body.len() as i32);
    w.raw(&body.buf);
}

/// Decodes every batch in a Produce/Fetch `records` field. Checks magic == 2
/// (else Corrupt), CRC (else Corrupt), decompresses with
/// `max_uncompressed_bytes` as the bound on total decompressed bytes per call
/// (uncompressed batches are already bounded by `bytes`), decodes records. A
/// trailing partial batch is an error (Corrupt) here: producers never send
/// one, although a Fetch response may end with one.
///
/// Beyond the wire format it enforces that `RecordsCount` matches the records
/// present and that `LastOffsetDelta + 1 == RecordsCount`, as Kafka's
/// `LogValidator` does for producer batches. (Batches thinned by compaction
/// break the second rule legitimately; we never compact.) Whether an empty
/// batch is acceptable is the caller's call: Kafka refuses one from a producer.
pub fn decode_batches(
    bytes: &[u8],
    max_uncompressed_bytes: usize,
) -> Result<Vec<RecordBatch>, RecordError> {
    let mut budget = max_uncompressed_bytes;
    decode_batches_within(bytes, &mut budget)
}

/// [`decode_batches`] drawing on a budget shared with other calls (one
/// produce request's partitions), so that a request's memory is bounded as
/// a whole rather than per batch. Decoding a compressed batch spends its
/// decompressed size plus the in-memory size of its records: each record of
/// a few inflated bytes becomes a [`Record`] of about a hundred, so a bomb
/// of tiny records would otherwise grow memory ~13-fold past the byte limit.
/// (Uncompressed records are bounded by `bytes`, which the frame limit
/// bounds.)
pub fn decode_batches_within(
    bytes: &[u8],
    budget: &mut usize,
) -> Result<Vec<RecordBatch>, RecordError> {
    let mut reader = Reader::new(bytes);
    let mut batches = Vec::new();
    while !reader.is_empty() {
        batches.push(decode_batch(&mut reader, budget)?);
    }
    Ok(batches)
}

fn corrupt(e: DecodeError) -> RecordError {
    RecordError::Corrupt(e.to_string())
}

fn invalid(e: DecodeError) -> RecordError {
    RecordError::InvalidRecord(e.to_string())
}

fn decode_batch(reader: &mut Reader<'_>, budget: &mut usize) -> Result<RecordBatch, RecordError> {
    let base_offset = reader.i64().map_err(corrupt)?;
    let length = reader.i32().map_err(corrupt)?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&len| len >= HEADER_LEN - LOG_OVERHEAD)
        .ok_or_else(|| {
            RecordError::Corrupt(format!(
                "batch length {length} is shorter than a batch header"
            ))
        })?;
    let mut batch = Reader::new(reader.take(length).map_err(corrupt)?);

    let partition_leader_epoch = batch.i32().map_err(corrupt)?;
    let magic = batch.i8().map_err(corrupt)?;
    if magic != MAGIC {
        return Err(RecordError::Corrupt(format!(
            "magic {magic}: only record batch v2 is supported"
        )));
    }
    let crc = batch.u32().map_err(corrupt)?;
    let actual = crc32c::crc32c(batch.rest());
    if crc != actual {
        return Err(RecordError::Corrupt(format!(
            "CRC mismatch: batch says {crc:#010x}, bytes give {actual:#010x}"
        )));
    }

    let mut header = RecordBatch {
        base_offset,
        partition_leader_epoch,
        attributes: batch.i16().map_err(corrupt)?,
        last_offset_delta: batch.i32().map_err(corrupt)?,
        base_timestamp: batch.i64().map_err(corrupt)?,
        max_timestamp: batch.i64().map_err(corrupt)?,
        producer_id: batch.i64().map_err(corrupt)?,
        producer_epoch: batch.i16().map_err(corrupt)?,
        base_sequence: batch.i32().map_err(corrupt)?,
        records: Vec::new(),
    };
    let record_count = batch.i32().map_err(corrupt)?;
    let compression = header.compression()?;
    let record_count = usize::try_from(record_count)
        .map_err(|_| RecordError::InvalidRecord(format!("negative record count {record_count}")))?;
    if i64::from(header.last_offset_delta) + 1 != record_count as i64 {
        return Err(RecordError::InvalidRecord(format!(
            "LastOffsetDelta {} does not match {record_count} records",
            header.last_offset_delta
        )));
    }

    let payload = batch.rest();
    header.records = match compression {
        Compression::None => decode_records(payload, record_count)?,
        // An empty batch left by compaction keeps its codec but has no payload.
        _ if record_count == 0 && payload.is_empty() => Vec::new(),
        codec => {
            let records = codec.decompress(payload, *budget)?;
            *budget -= records.len();
            // As many records as the bytes can hold, at most (more fail
            // below as a count mismatch).
            let bookkeeping = record_count
                .min(records.len() / MIN_RECORD_LEN)
                .saturating_mul(std::mem::size_of::<Record>());
            *budget = budget.checked_sub(bookkeeping).ok_or_else(|| {
                RecordError::TooLarge(format!(
                    "{record_count} records would take more memory than allowed"
                ))
            })?;
            decode_records(&records, record_count)?
        }
    };
    Ok(header)
}

/// Decodes exactly `count` records filling all of `bytes`.
fn decode_records(bytes: &[u8], count: usize) -> Result<Vec<Record>, RecordError> {
    let mut reader = Reader::new(bytes);
    let mut records = Vec::with_capacity(count.min(bytes.len() / MIN_RECORD_LEN));
    for read in 0..count {
        if reader.is_empty() {
            return Err(RecordError::InvalidRecord(format!(
                "batch declares {count} records but holds {read}"
            )));
        }
        records.push(decode_record(&mut reader)?);
    }
    if !reader.is_empty() {
        return Err(RecordError::InvalidRecord(format!(
            "{} bytes left after the {count} declared records",
            reader.remaining()
        )));
    }
    Ok(records)
}

/// Reads a varint-length-prefixed byte string; -1 is null.
fn read_varint_bytes<'a>(reader: &mut Reader<'a>) -> Result<Option<&'a [u8]>, RecordError> {
    let len = reader.varint().map_err(invalid)?;
    if len == -1 {
        return Ok(None);
    }
    let len = usize::try_from(len).map_err(|_| invalid(DecodeError::InvalidLength(len.into())))?;
    reader.take(len).map(Some).map_err(invalid)
}

fn decode_record(reader: &mut Reader<'_>) -> Result<Record, RecordError> {
    let len = reader.varint().map_err(invalid)?;
    let len = usize::try_from(len).map_err(|_| invalid(DecodeError::InvalidLength(len.into())))?;
    let mut body = Reader::new(reader.take(len).map_err(invalid)?);

    let attributes = body.i8().map_err(invalid)?;
    let timestamp_delta = body.varlong().map_err(invalid)?;
    let offset_delta = body.varint().map_err(invalid)?;
    let key = read_varint_bytes(&mut body)?.map(<[u8]>::to_vec);
    let value = read_varint_bytes(&mut body)?.map(<[u8]>::to_vec);
    let header_count = body.varint().map_err(invalid)?;
    let header_count = usize::try_from(header_count)
        .map_err(|_| invalid(DecodeError::InvalidLength(header_count.into())))?;
    // Every header takes at least two bytes: bound the allocation by that.
    let mut headers = Vec::with_capacity(header_count.min(body.remaining() / 2));
    for _ in 0..header_count {
        let key = read_varint_bytes(&mut body)?
            .ok_or_else(|| RecordError::InvalidRecord("null header key".to_owned()))?;
        let key = std::str::from_utf8(key)
            .map_err(|_| RecordError::InvalidRecord("header key is not UTF-8".to_owned()))?;
        let value = read_varint_bytes(&mut body)?.map(<[u8]>::to_vec);
        headers.push(Header {
            key: key.to_owned(),
            value,
        });
    }
    if !body.is_empty() {
        return Err(RecordError::InvalidRecord(format!(
            "record length {len} leaves {} bytes unread",
            body.remaining()
        )));
    }
    Ok(Record {
        attributes,
        timestamp_delta,
        offset_delta,
        key,
        value,
        headers,
    })
}

/// The two kinds of control record, the transaction markers (KIP-98) that a
/// transaction coordinator writes into each partition a transaction touched.
/// Each sits alone in a batch flagged [`attributes::CONTROL`] and
/// [`attributes::TRANSACTIONAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    Abort,
    Commit,
}

impl ControlType {
    /// The control record key: `version i16 (0) | type i16`.
    pub fn key_bytes(self) -> Vec<u8> {
        let mut w = Writer::with_capacity(4);
        w.i16(0);
        w.i16(match self {
            ControlType::Abort => 0,
            ControlType::Commit => 1,
        });
        w.into_inner()
    }

    /// Reads a control record key. Like Kafka's `ControlRecordType.parse`,
    /// any non-negative version is accepted; unknown types give `None`.
    pub fn from_key(key: &[u8]) -> Option<ControlType> {
        let mut reader = Reader::new(key);
        if reader.i16().ok()? < 0 {
            return None;
        }
        match reader.i16().ok()? {
            0 => Some(ControlType::Abort),
            1 => Some(ControlType::Commit),
            _ => None,
        }
    }
}

/// The value of a transaction marker: `version i16 (0) | coordinatorEpoch i32`,
/// the epoch letting brokers fence markers from a deposed coordinator.
pub fn control_value(coordinator_epoch: i32) -> Vec<u8> {
    let mut w = Writer::with_capacity(6);
    w.i16(0);
    w.i32(coordinator_epoch);
    w.into_inner()
}

/// Writes one uncompressed batch straight into a Fetch response buffer, one
/// record at a time, without building a [`RecordBatch`] first.
///
/// `start` writes a placeholder header, `push` appends records, and `finish`
/// fills in the header fields that depend on the records, then the CRC.
/// `out` must not be shortened between `start` and `finish`.
pub struct BatchBuilder {
    /// Where the batch begins in `out`.
    start: usize,
    /// The header fields; its `records` stay empty.
    header: RecordBatch,
    record_count: i32,
    /// Reused buffer for one record's body, which must be complete before its
    /// varint length can be written.
    body: Writer,
}

impl BatchBuilder {
    /// Starts a batch at the end of `out` (writes a placeholder header).
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        out: &mut Vec<u8>,
        base_offset: i64,
        base_timestamp: i64,
        attributes: i16,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        partition_leader_epoch: i32,
    ) -> BatchBuilder {
        let header = RecordBatch {
            base_offset,
            partition_leader_epoch,
            attributes,
            last_offset_delta: -1,
            base_timestamp,
            max_timestamp: -1,
            producer_id,
            producer_epoch,
            base_sequence,
            records: Vec::new(),
        };
        let start = out.len();
        with_writer(out, |w| write_header(w, &header, 0, 0));
        BatchBuilder {
            start,
            header,
            record_count: 0,
            body: Writer::new(),
        }
    }

    /// Appends one record; offset and timestamp are absolute. Offsets must be
    /// increasing and within `i32` of the base offset, as in any batch.
    /// Under `LogAppendTime`, pass the append time as every timestamp:
    /// clients read `MaxTimestamp` as the time of each record.
    pub fn push(
        &mut self,
        out: &mut Vec<u8>,
        offset: i64,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) {
        let offset_delta = offset.wrapping_sub(self.header.base_offset) as i32;
        self.body.buf.clear();
        write_record_body(
            &mut self.body,
            0,
            timestamp.wrapping_sub(self.header.base_timestamp),
            offset_delta,
            key,
            value,
            headers.iter().copied(),
        );
        with_writer(out, |w| append_record(w, &self.body));
        self.header.max_timestamp = if self.record_count == 0 {
            timestamp
        } else {
            self.header.max_timestamp.max(timestamp)
        };
        self.header.last_offset_delta = offset_delta;
        self.record_count += 1;
    }

    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// Fills in Length, LastOffsetDelta, MaxTimestamp, RecordsCount and CRC.
    /// A batch with no records keeps LastOffsetDelta and MaxTimestamp at -1.
    /// The batch must stay under 2 GiB (`Length` is an i32), which any Fetch
    /// response does by far.
    pub fn finish(self, out: &mut Vec<u8>) {
        let length = (out.len() - self.start - LOG_OVERHEAD) as i32;
        let mut header = Writer::with_capacity(HEADER_LEN);
        write_header(&mut header, &self.header, length, self.record_count);
        out[self.start..self.start + HEADER_LEN].copy_from_slice(&header.buf);
        patch_crc(out, self.start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    const CODECS: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    const MB: usize = 1 << 20;

    fn arb_header() -> impl Strategy<Value = Header> {
        (".{0,8}", proptest::option::of(vec(any::<u8>(), 0..16)))
            .prop_map(|(key, value)| Header { key, value })
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        (
            any::<i8>(),
            any::<i64>(),
            proptest::option::of(vec(any::<u8>(), 0..40)),
            proptest::option::of(vec(any::<u8>(), 0..200)),
            vec(arb_header(), 0..4),
        )
            .prop_map(
                |(attributes, timestamp_delta, key, value, headers)| Record {
                    attributes,
                    timestamp_delta,
                    offset_delta: 0,
                    key,
                    value,
                    headers,
                },
            )
    }

    /// A batch as a producer would send it: dense offset deltas and a
    /// matching `LastOffsetDelta`; 0 to 5 records.
    fn arb_batch() -> impl Strategy<Value = RecordBatch> {
        (
            (
                any::<i64>(),
                any::<i32>(),
                0i16..=0x78,
                any::<i64>(),
                any::<i64>(),
            ),
            (any::<i64>(), any::<i16>(), any::<i32>()),
            vec(arb_record(), 0..6),
        )
            .prop_map(
                |(
                    (base_offset, partition_leader_epoch, flags, base_timestamp, max_timestamp),
                    (producer_id, producer_epoch, base_sequence),
                    mut records,
                )| {
                    for (i, record) in records.iter_mut().enumerate() {
                        record.offset_delta = i as i32;
                    }
                    RecordBatch {
                        base_offset,
                        partition_leader_epoch,
                        attributes: flags & !attributes::COMPRESSION_MASK,
                        last_offset_delta: records.len() as i32 - 1,
                        base_timestamp,
                        max_timestamp,
                        producer_id,
                        producer_epoch,
                        base_sequence,
                        records,
                    }
                },
            )
    }

    fn sample_batch(codec: Compression) -> RecordBatch {
        let records: Vec<Record> = (0..3)
            .map(|i| Record {
                attributes: 0,
                timestamp_delta: i * 10,
                offset_delta: i as i32,
                key: (i != 1).then(|| format!("key-{i}").into_bytes()),
                value: Some(vec![i as u8; 100]),
                headers: vec![Header {
                    key: "h".into(),
                    value: (i == 2).then(|| b"v".to_vec()),
                }],
            })
            .collect();
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            attributes: codec.attribute_bits(),
            last_offset_delta: 2,
            base_timestamp: 1_700_000_000_000,
            max_timestamp: 1_700_000_000_020,
            producer_id: 7,
            producer_epoch: 1,
            base_sequence: 0,
            records,
        }
    }

    fn encoded(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        batch.encode(&mut out).unwrap();
        out
    }

    /// A batch with a hand-made payload (and a valid CRC), for the cases our
    /// encoder would never produce.
    fn raw_batch(
        attributes: i16,
        record_count: i32,
        last_offset_delta: i32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut header = sample_batch(Compression::None);
        header.attributes = attributes;
        header.last_offset_delta = last_offset_delta;
        let mut out = Vec::new();
        with_writer(&mut out, |w| {
            write_header(
                w,
                &header,
                (HEADER_LEN - LOG_OVERHEAD + payload.len()) as i32,
                record_count,
            );
            w.raw(payload);
        });
        patch_crc(&mut out, 0);
        out
    }

    proptest! {
        #[test]
        fn batches_round_trip_with_every_codec(batch in arb_batch()) {
            for codec in CODECS {
                let batch = RecordBatch { attributes: batch.attributes | codec.attribute_bits(), ..batch.clone() };
                let bytes = encoded(&batch);
                prop_assert_eq!(decode_batches(&bytes, usize::MAX)?, vec![batch]);
            }
        }

        #[test]
        fn concatenated_batches_decode_in_order(batches in vec(arb_batch(), 0..4)) {
            let mut bytes = Vec::new();
            for batch in &batches {
                batch.encode(&mut bytes)?;
            }
            prop_assert_eq!(decode_batches(&bytes, usize::MAX)?, batches);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..300)) {
            let _ = decode_batches(&bytes, MB);
        }

        /// Garbage behind a valid header and CRC reaches the record parser.
        #[test]
        fn arbitrary_records_never_panic(payload in vec(any::<u8>(), 0..200), codec in 0i16..5, count in -1i32..5) {
            let bytes = raw_batch(codec, count, count - 1, &payload);
            let _ = decode_batches(&bytes, MB);
        }

        #[test]
        fn builder_output_decodes_to_the_pushed_records(
            records in vec((any::<i32>(), proptest::option::of(vec(any::<u8>(), 0..20)), proptest::option::of(vec(any::<u8>(), 0..50)), vec(arb_header(), 0..3)), 0..6),
            base_offset in 0i64..1 << 40,
            base_timestamp in 0i64..1 << 42,
        ) {
            let mut out = vec![0xAA; 5]; // the builder appends after what is there
            let mut builder = BatchBuilder::start(&mut out, base_offset, base_timestamp, 0, 9, 2, 3, 4);
            for (i, (ts_jitter, key, value, headers)) in records.iter().enumerate() {
                let headers: Vec<(&str, Option<&[u8]>)> =
                    headers.iter().map(|h| (h.key.as_str(), h.value.as_deref())).collect();
                builder.push(&mut out, base_offset + i as i64, base_timestamp + i64::from(*ts_jitter), key.as_deref(), value.as_deref(), &headers);
            }
            prop_assert_eq!(builder.record_count(), records.len() as i32);
            builder.finish(&mut out);
            prop_assert_eq!(&out[..5], &[0xAA; 5]);

            let decoded = decode_batches(&out[5..], 0)?;
            prop_assert_eq!(decoded.len(), 1);
            let batch = &decoded[0];
            prop_assert_eq!((batch.base_offset, batch.base_timestamp, batch.attributes), (base_offset, base_timestamp, 0));
            prop_assert_eq!((batch.producer_id, batch.producer_epoch, batch.base_sequence, batch.partition_leader_epoch), (9, 2, 3, 4));
            let max_timestamp = records.iter().map(|r| base_timestamp + i64::from(r.0)).max().unwrap_or(-1);
            prop_assert_eq!(batch.max_timestamp, max_timestamp);
            prop_assert_eq!(batch.records.len(), records.len());
            for (i, (record, (ts_jitter, key, value, headers))) in batch.records.iter().zip(&records).enumerate() {
                prop_assert_eq!(record.offset_delta, i as i32);
                prop_assert_eq!(record.timestamp_delta, i64::from(*ts_jitter));
                prop_assert_eq!(&record.key, key);
                prop_assert_eq!(&record.value, value);
                prop_assert_eq!(&record.headers, headers);
            }
        }
    }

    #[test]
    fn header_is_61_bytes_and_length_counts_what_follows_it() {
        let empty = RecordBatch {
            records: Vec::new(),
            last_offset_delta: -1,
            ..sample_batch(Compression::Gzip)
        };
        let bytes = encoded(&empty);
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(bytes[8..12], 49i32.to_be_bytes());
        assert_eq!(bytes[16], 2);
        assert_eq!(decode_batches(&bytes, 0).unwrap(), vec![empty]);
    }

    #[test]
    fn a_flipped_bit_anywhere_under_the_crc_is_corrupt() {
        let bytes = encoded(&sample_batch(Compression::None));
        for at in CRC_OFFSET..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(
                matches!(decode_batches(&damaged, MB), Err(RecordError::Corrupt(_))),
                "flip at {at}"
            );
        }
    }

    #[test]
    fn wrong_magic_is_corrupt() {
        for magic in [0u8, 1, 3] {
            let mut bytes = encoded(&sample_batch(Compression::None));
            bytes[16] = magic;
            assert!(matches!(
                decode_batches(&bytes, MB),
                Err(RecordError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for codec in CODECS {
            let mut bytes = encoded(&sample_batch(codec));
            bytes.extend(encoded(&sample_batch(codec)));
            let one = bytes.len() / 2;
            for len in (1..bytes.len()).filter(|&len| len != one) {
                assert!(
                    decode_batches(&bytes[..len], MB).is_err(),
                    "{codec:?} cut at {len}"
                );
            }
        }
    }

    #[test]
    fn unknown_codecs_are_unsupported() {
        for codec in 5..=7 {
            let bytes = raw_batch(codec, 0, -1, &[]);
            assert_eq!(
                decode_batches(&bytes, MB),
                Err(RecordError::UnsupportedCompression)
            );
        }
        assert_eq!(
            RecordError::UnsupportedCompression.error_code(),
            ErrorCode::UnsupportedCompressionType
        );
    }

    #[test]
    fn record_counts_must_match_the_records() {
        let batch = sample_batch(Compression::None);
        let mut payload = Writer::new();
        let mut body = Writer::new();
        for record in &batch.records {
            body.buf.clear();
            write_record_body(
                &mut body,
                0,
                0,
                record.offset_delta,
                None,
                None,
                std::iter::empty(),
            );
            append_record(&mut payload, &body);
        }
        let ok = raw_batch(0, 3, 2, &payload.buf);
        assert_eq!(decode_batches(&ok, 0).unwrap()[0].records.len(), 3);
        for (count, last_offset_delta) in [(2, 1), (4, 3), (3, 1), (3, 5), (-1, -2)] {
            let bytes = raw_batch(0, count, last_offset_delta, &payload.buf);
            let err = decode_batches(&bytes, 0).unwrap_err();
            assert!(
                matches!(err, RecordError::InvalidRecord(_)),
                "{count}: {err:?}"
            );
            assert_eq!(err.error_code(), ErrorCode::InvalidRecord);
        }
    }

    #[test]
    fn header_keys_must_be_utf8_and_not_null() {
        for key in [Some(&[0xff, 0xfe][..]), None] {
            let mut body = Writer::new();
            body.i8(0);
            body.varlong(0);
            body.varint(0);
            write_varint_bytes(&mut body, None);
            write_varint_bytes(&mut body, None);
            body.varint(1);
            write_varint_bytes(&mut body, key);
            write_varint_bytes(&mut body, None);
            let mut payload = Writer::new();
            append_record(&mut payload, &body);
            let bytes = raw_batch(0, 1, 0, &payload.buf);
            assert!(matches!(
                decode_batches(&bytes, 0),
                Err(RecordError::InvalidRecord(_))
            ));
        }
    }

    #[test]
    fn xerial_snappy_batch_with_many_chunks_decodes() {
        let mut batch = sample_batch(Compression::Snappy);
        batch.records[0].value = Some((0..200_000u32).map(|i| (i * 31 % 253) as u8).collect());
        let mut records = Writer::new();
        let mut body = Writer::new();
        for r in &batch.records {
            body.buf.clear();
            let headers = r
                .headers
                .iter()
                .map(|h| (h.key.as_str(), h.value.as_deref()));
            write_record_body(
                &mut body,
                r.attributes,
                r.timestamp_delta,
                r.offset_delta,
                r.key.as_deref(),
                r.value.as_deref(),
                headers,
            );
            append_record(&mut records, &body);
        }
        let mut framed = vec![
            0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        ];
        let chunks = records.buf.chunks(32 * 1024);
        assert!(chunks.len() > 5);
        for chunk in chunks {
            let block = snap::raw::Encoder::new().compress_vec(chunk).unwrap();
            framed.extend_from_slice(&(block.len() as i32).to_be_bytes());
            framed.extend_from_slice(&block);
        }
        let bytes = raw_batch(Compression::Snappy.attribute_bits(), 3, 2, &framed);
        let decoded = decode_batches(&bytes, MB).unwrap();
        assert_eq!(decoded[0].records, batch.records);
    }

    #[test]
    fn compressed_bombs_are_too_large() {
        use std::io::Write;
        // One record whose 100 MB value is all zeros, streamed into zstd so
        // the test never holds it either.
        let value_len = 100 * MB;
        let mut value_prefix = Writer::new();
        value_prefix.varint(value_len as i32);
        let mut head = Writer::new();
        head.varint((4 + value_prefix.len() + value_len + 1) as i32);
        head.i8(0);
        head.varlong(0);
        head.varint(0);
        head.varint(-1);
        head.raw(&value_prefix.buf);
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        encoder.write_all(&head.buf).unwrap();
        let zeros = vec![0u8; MB];
        for _ in 0..100 {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.write_all(&[0]).unwrap(); // no headers
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < MB / 10);

        let bytes = raw_batch(Compression::Zstd.attribute_bits(), 1, 0, &bomb);
        let err = decode_batches(&bytes, MB).unwrap_err();
        assert!(matches!(err, RecordError::TooLarge(_)), "{err:?}");
        assert_eq!(err.error_code(), ErrorCode::MessageTooLarge);
    }

    #[test]
    fn the_decompression_limit_is_shared_by_all_batches() {
        let mut batch = sample_batch(Compression::Gzip);
        batch.records[0].value = Some(vec![1; 600 * 1024]);
        let mut bytes = encoded(&batch);
        assert_eq!(decode_batches(&bytes, MB).unwrap().len(), 1);
        bytes.extend(encoded(&batch));
        assert!(matches!(
            decode_batches(&bytes, MB),
            Err(RecordError::TooLarge(_))
        ));
    }

    #[test]
    fn control_records_round_trip() {
        for kind in [ControlType::Abort, ControlType::Commit] {
            assert_eq!(ControlType::from_key(&kind.key_bytes()), Some(kind));
        }
        assert_eq!(ControlType::Commit.key_bytes(), [0, 0, 0, 1]);
        assert_eq!(ControlType::from_key(&[0, 0, 0, 2]), None);
        assert_eq!(ControlType::from_key(&[0, 0, 0]), None);
        assert_eq!(ControlType::from_key(&[0xff, 0xff, 0, 1]), None);
        assert_eq!(control_value(5), [0, 0, 0, 0, 0, 5]);
    }

    mod oracle {
        use super::*;
        use bytes::{Bytes, BytesMut};
        use kafka_protocol::indexmap::IndexMap;
        use kafka_protocol::protocol::StrBytes;
        use kafka_protocol::records::{
            Compression as TheirCompression, Record as TheirRecord, RecordBatchDecoder,
            RecordBatchEncoder, RecordEncodeOptions, TimestampType,
        };

        fn their_records(batch: &RecordBatch) -> Vec<TheirRecord> {
            batch
                .records
                .iter()
                .map(|r| TheirRecord {
                    transactional: batch.is_transactional(),
                    control: batch.is_control(),
                    delete_horizon: false,
                    partition_leader_epoch: batch.partition_leader_epoch,
                    producer_id: batch.producer_id,
                    producer_epoch: batch.producer_epoch,
                    timestamp_type: TimestampType::Creation,
                    offset: batch.base_offset + i64::from(r.offset_delta),
                    sequence: batch.base_sequence + r.offset_delta,
                    timestamp: batch.base_timestamp + r.timestamp_delta,
                    key: r.key.clone().map(Bytes::from),
                    value: r.value.clone().map(Bytes::from),
                    headers: r
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                StrBytes::from_string(h.key.clone()),
                                h.value.clone().map(Bytes::from),
                            )
                        })
                        .collect::<IndexMap<_, _>>(),
                })
                .collect()
        }

        /// Records with distinct header keys (theirs are a map) and
        /// non-negative timestamp deltas (their base is the minimum).
        fn oracle_batch() -> RecordBatch {
            let mut batch = sample_batch(Compression::None);
            batch.attributes = attributes::TRANSACTIONAL;
            batch.base_offset = 1_000;
            batch.base_sequence = 40;
            batch.records[1].headers.push(Header {
                key: "ünïcode".into(),
                value: Some(vec![]),
            });
            batch.records[2].key = Some(Vec::new());
            batch.records[2].value = None;
            batch
        }

        #[test]
        fn kafka_protocol_batches_decode_with_ours() {
            let batch = oracle_batch();
            let mut buf = BytesMut::new();
            let options = RecordEncodeOptions {
                version: 2,
                compression: TheirCompression::None,
            };
            RecordBatchEncoder::encode(&mut buf, their_records(&batch).iter(), &options).unwrap();
            let decoded = decode_batches(&buf, 0).unwrap();
            assert_eq!(decoded, vec![batch]);
        }

        #[test]
        fn our_batches_decode_with_kafka_protocol() {
            let batch = oracle_batch();
            let mut buf = Bytes::from(encoded(&batch));
            let sets = RecordBatchDecoder::decode_all(&mut buf).unwrap();
            assert_eq!(sets.len(), 1);
            assert_eq!(sets[0].records, their_records(&batch));

            // And so does the builder's output.
            let mut out = Vec::new();
            let mut builder = BatchBuilder::start(
                &mut out,
                1_000,
                batch.base_timestamp,
                attributes::TRANSACTIONAL,
                7,
                1,
                40,
                -1,
            );
            for r in &batch.records {
                let headers: Vec<(&str, Option<&[u8]>)> = r
                    .headers
                    .iter()
                    .map(|h| (h.key.as_str(), h.value.as_deref()))
                    .collect();
                builder.push(
                    &mut out,
                    1_000 + i64::from(r.offset_delta),
                    batch.base_timestamp + r.timestamp_delta,
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &headers,
                );
            }
            builder.finish(&mut out);
            let sets = RecordBatchDecoder::decode_all(&mut Bytes::from(out)).unwrap();
            assert_eq!(sets[0].records, their_records(&batch));
        }
    }

    /// A compressed batch of many tiny records that stays under the byte
    /// limit is still refused: each record costs its in-memory size too.
    #[test]
    fn tiny_record_bombs_are_charged_for_their_records() {
        let count = 100_000;
        let batch = RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            attributes: Compression::Zstd.attribute_bits(),
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            records: (0..count)
                .map(|i| Record {
                    attributes: 0,
                    timestamp_delta: 0,
                    offset_delta: i,
                    key: None,
                    value: None,
                    headers: Vec::new(),
                })
                .collect(),
        };
        let mut bytes = Vec::new();
        batch.encode(&mut bytes).unwrap();
        let mut plain = Vec::new();
        let uncompressed = RecordBatch {
            attributes: 0,
            ..batch.clone()
        };
        uncompressed.encode(&mut plain).unwrap();
        let inflated = plain.len() - HEADER_LEN;
        let needed = inflated + count as usize * std::mem::size_of::<Record>();
        assert!(matches!(
            decode_batches(&bytes, 2 * inflated),
            Err(RecordError::TooLarge(_))
        ));
        let mut budget = needed;
        assert_eq!(
            decode_batches_within(&bytes, &mut budget).unwrap()[0]
                .records
                .len(),
            count as usize
        );
        // One request's budget is shared by its batches.
        assert!(matches!(
            decode_batches_within(&bytes, &mut budget),
            Err(RecordError::TooLarge(_))
        ));
    }
}
