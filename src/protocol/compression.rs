//! The compression codecs of record batch v2.
//!
//! A compressed batch keeps its 61-byte header in the clear and compresses
//! only the records that follow it, all together (see [`super::records`]).
//! The codec is named by the low three bits of the batch attributes.
//!
//! Decoding is the dangerous direction: a producer controls the compressed
//! bytes, and a few kilobytes of zstd or gzip can expand to gigabytes. Every
//! decoder here therefore reads through a hard output limit and fails with
//! [`RecordError::TooLarge`] the moment the output would pass it; nothing is
//! ever allocated from a size the peer announces unless that size is within
//! the limit.
//!
//! Each codec accepts what real clients send:
//! - gzip: an RFC 1952 stream, possibly several concatenated members (Java's
//!   `GZIPInputStream` reads those too).
//! - snappy: either a raw snappy block (librdkafka) or the xerial/snappy-java
//!   framing (Java client, kafka-python), told apart by the xerial magic.
//! - lz4: the LZ4 *frame* format (KIP-57), with or without checksums.
//! - zstd: standard zstd frames (KIP-110).

use std::io::{Read, Write};

use super::primitives::Reader;
use super::records::RecordError;

/// A record batch compression codec, as named by attribute bits 0-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// The header snappy-java writes before its chunks: an 8-byte magic, then a
/// big-endian version and minimum compatible version (both 1 in practice).
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_LEN: usize = XERIAL_MAGIC.len() + 4 + 4;

impl Compression {
    /// Reads the codec out of a batch's attributes. Codes 5-7 are unassigned
    /// and answered with `UNSUPPORTED_COMPRESSION_TYPE`, as Kafka does.
    pub fn from_attributes(attributes: i16) -> Result<Compression, RecordError> {
        match attributes & super::records::attributes::COMPRESSION_MASK {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            _ => Err(RecordError::UnsupportedCompression),
        }
    }

    /// The attribute bits that name this codec.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Compresses `input` in a form every Kafka client can read: gzip, raw
    /// snappy (which Java reads since snappy-java falls back to it), an lz4
    /// frame of 64 KiB *independent* blocks (Java's `KafkaLZ4BlockInputStream`
    /// rejects linked blocks), or a zstd frame. Compressing into memory does
    /// not fail in practice; if a codec ever did, it is reported as `Corrupt`.
    pub fn compress(self, input: &[u8]) -> Result<Vec<u8>, RecordError> {
        let failed = |e: &dyn std::fmt::Display| {
            RecordError::Corrupt(format!("{self:?} compression failed: {e}"))
        };
        match self {
            Compression::None => Ok(input.to_vec()),
            Compression::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(input).map_err(|e| failed(&e))?;
                encoder.finish().map_err(|e| failed(&e))
            }
            Compression::Snappy => snap::raw::Encoder::new()
                .compress_vec(input)
                .map_err(|e| failed(&e)),
            Compression::Lz4 => {
                use lz4_flex::frame::{BlockMode, BlockSize, FrameEncoder, FrameInfo};
                let info = FrameInfo::new()
                    .block_mode(BlockMode::Independent)
                    .block_size(BlockSize::Max64KB);
                let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
                encoder.write_all(input).map_err(|e| failed(&e))?;
                encoder.finish().map_err(|e| failed(&e))
            }
            Compression::Zstd => {
                zstd::bulk::compress(input, zstd::DEFAULT_COMPRESSION_LEVEL).map_err(|e| failed(&e))
            }
        }
    }

    /// Decompresses `input`, failing with [`RecordError::TooLarge`] as soon as
    /// the output would exceed `max_output` bytes, and with
    /// [`RecordError::Corrupt`] when the input is not valid for the codec.
    pub fn decompress(self, input: &[u8], max_output: usize) -> Result<Vec<u8>, RecordError> {
        match self {
            Compression::None => {
                check_size(input.len(), max_output)?;
                Ok(input.to_vec())
            }
            Compression::Gzip => {
                read_bounded(flate2::read::MultiGzDecoder::new(input), self, max_output)
            }
            Compression::Snappy if input.starts_with(&XERIAL_MAGIC) => {
                decompress_xerial(input, max_output)
            }
            Compression::Snappy => {
                let mut out = Vec::new();
                append_snappy_block(input, &mut out, max_output)?;
                Ok(out)
            }
            // The frame decoder's own buffers are bounded by the frame's
            // declared block size (at most a few MiB), not by the peer.
            Compression::Lz4 => {
                read_bounded(lz4_flex::frame::FrameDecoder::new(input), self, max_output)
            }
            // zstd sizes its window buffer from the frame header, capped by the
            // library's default `window_log_max` of 27 (128 MiB of address
            // space, touched only as data arrives). A lower cap would refuse
            // legitimate batches from producers at high compression levels.
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| corrupt(self, &e))?;
                read_bounded(decoder, self, max_output)
            }
        }
    }
}

fn corrupt(codec: Compression, e: &dyn std::fmt::Display) -> RecordError {
    RecordError::Corrupt(format!("invalid {codec:?} data: {e}"))
}

fn check_size(size: usize, max_output: usize) -> Result<(), RecordError> {
    if size > max_output {
        return Err(RecordError::TooLarge(format!(
            "records decompress to more than {max_output} bytes"
        )));
    }
    Ok(())
}

/// Drains a streaming decoder, reading at most one byte past the limit so an
/// overflow is detected without ever holding more than `max_output + 1` bytes.
fn read_bounded(
    decoder: impl Read,
    codec: Compression,
    max_output: usize,
) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max_output)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    decoder
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(codec, &e))?;
    check_size(out.len(), max_output)?;
    Ok(out)
}

/// Appends one raw snappy block to `out`. The block announces its
/// uncompressed length up front, so the limit is checked before allocating.
fn append_snappy_block(
    block: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), RecordError> {
    let len = snap::raw::decompress_len(block).map_err(|e| corrupt(Compression::Snappy, &e))?;
    check_size(out.len().saturating_add(len), max_output)?;
    let start = out.len();
    out.resize(start + len, 0);
    snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| corrupt(Compression::Snappy, &e))?;
    Ok(())
}

/// Decodes snappy-java's framing: the 16-byte header, then chunks of
/// `[i32 compressed length][raw snappy block]` until the input ends.
fn decompress_xerial(input: &[u8], max_output: usize) -> Result<Vec<u8>, RecordError> {
    let bad = |e: &dyn std::fmt::Display| {
        RecordError::Corrupt(format!("invalid xerial snappy framing: {e}"))
    };
    let mut reader = Reader::new(input);
    reader.take(XERIAL_HEADER_LEN).map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    while !reader.is_empty() {
        let len = reader.i32().map_err(|e| bad(&e))?;
        let len = usize::try_from(len).map_err(|_| bad(&format!("negative chunk length {len}")))?;
        let chunk = reader.take(len).map_err(|e| bad(&e))?;
        append_snappy_block(chunk, &mut out, max_output)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// Wraps raw snappy blocks of `chunk` bytes each in snappy-java framing.
    fn xerial(data: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = XERIAL_MAGIC.to_vec();
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        for piece in data.chunks(chunk) {
            let block = snap::raw::Encoder::new().compress_vec(piece).unwrap();
            out.extend_from_slice(&(block.len() as i32).to_be_bytes());
            out.extend_from_slice(&block);
        }
        out
    }

    proptest! {
        #[test]
        fn every_codec_round_trips(data: Vec<u8>) {
            for codec in ALL {
                let packed = codec.compress(&data)?;
                prop_assert_eq!(codec.decompress(&packed, data.len())?, data.clone());
            }
        }

        #[test]
        fn garbage_never_panics(data: Vec<u8>) {
            for codec in ALL {
                let _ = codec.decompress(&data, 1 << 16);
            }
        }
    }

    #[test]
    fn attribute_bits_round_trip_and_unknown_codecs_are_refused() {
        for codec in ALL {
            assert_eq!(
                Compression::from_attributes(codec.attribute_bits() | 0x78),
                Ok(codec)
            );
        }
        for bits in 5..=7 {
            assert_eq!(
                Compression::from_attributes(bits),
                Err(RecordError::UnsupportedCompression)
            );
        }
    }

    #[test]
    fn xerial_snappy_with_many_chunks_decodes() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7) as u8)
            .collect();
        let framed = xerial(&data, 32 * 1024);
        assert_eq!(
            Compression::Snappy.decompress(&framed, data.len()).unwrap(),
            data
        );
        assert!(matches!(
            Compression::Snappy.decompress(&framed, data.len() - 1),
            Err(RecordError::TooLarge(_))
        ));
        // A chunk length running past the end is corrupt, not a panic.
        assert!(matches!(
            Compression::Snappy.decompress(&framed[..framed.len() - 1], data.len()),
            Err(RecordError::Corrupt(_))
        ));
    }

    #[test]
    fn raw_snappy_announcing_a_huge_length_is_refused_before_allocating() {
        // Varint 0xFFFFFFFF (4 GiB) then nothing.
        let block = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(
            Compression::Snappy.decompress(&block, 1 << 20),
            Err(RecordError::TooLarge(_))
        ));
    }

    #[test]
    fn lz4_frames_use_independent_blocks_and_checksummed_frames_decode() {
        use lz4_flex::frame::{BlockMode, FrameEncoder, FrameInfo};
        let packed = Compression::Lz4.compress(b"hello").unwrap();
        // FLG byte: version 01, block independence bit 5 set.
        assert_eq!(packed[..4], 0x184D2204u32.to_le_bytes());
        assert_eq!(packed[4] & 0x20, 0x20);

        let data = vec![7u8; 300_000];
        let info = FrameInfo::new()
            .block_mode(BlockMode::Linked)
            .block_checksums(true)
            .content_checksum(true)
            .content_size(Some(data.len() as u64));
        let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
        encoder.write_all(&data).unwrap();
        let packed = encoder.finish().unwrap();
        assert_eq!(
            Compression::Lz4.decompress(&packed, data.len()).unwrap(),
            data
        );
    }

    #[test]
    fn concatenated_gzip_members_decode() {
        let mut packed = Compression::Gzip.compress(b"abc").unwrap();
        packed.extend(Compression::Gzip.compress(b"def").unwrap());
        assert_eq!(Compression::Gzip.decompress(&packed, 6).unwrap(), b"abcdef");
    }

    /// 100 MB of zeros must stop at the 1 MB limit. The gzip bomb is 100
    /// concatenated 1 MB members (compressing 100 MB in a debug build is
    /// slow); the zstd bomb is one frame streamed from 100 MB of zeros.
    #[test]
    fn decompression_bombs_stop_at_the_limit() {
        const MB: usize = 1 << 20;
        let member = Compression::Gzip.compress(&vec![0u8; MB]).unwrap();
        let gzip_bomb = member.repeat(100);
        assert!(matches!(
            Compression::Gzip.decompress(&gzip_bomb, MB - 1),
            Err(RecordError::TooLarge(_))
        ));

        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        let zeros = vec![0u8; MB];
        for _ in 0..100 {
            encoder.write_all(&zeros).unwrap();
        }
        let zstd_bomb = encoder.finish().unwrap();
        assert!(zstd_bomb.len() < MB / 10);
        assert!(matches!(
            Compression::Zstd.decompress(&zstd_bomb, MB),
            Err(RecordError::TooLarge(_))
        ));

        let lz4_bomb = Compression::Lz4.compress(&vec![0u8; 10 * MB]).unwrap();
        assert!(matches!(
            Compression::Lz4.decompress(&lz4_bomb, MB),
            Err(RecordError::TooLarge(_))
        ));
    }
}
