//! PostgreSQL's binary `COPY` format, written by hand into one buffer.
//!
//! The `postgres` crate's `BinaryCopyInWriter` encodes each row through
//! `ToSql` and, in its blocking form, enters the client's runtime once per
//! row; for an append of thousands of small records that per-row hand-off
//! cost more than PostgreSQL's own work on the row. Records are written
//! here instead into a buffer that goes to the server a chunk of
//! [`CopyBuffer::CHUNK`] bytes at a time, so a large group commit costs a
//! few hand-offs and a bounded amount of memory.
//!
//! Layout (PostgreSQL docs, "COPY: Binary Format"): an 11-byte signature,
//! a flags word and a header-extension length; then per row a 16-bit field
//! count followed by each field as a 32-bit length (-1 for NULL) and its
//! bytes in the type's binary send format; then a 16-bit -1 trailer.
//! Arrays use `array_send`: dimensions, a has-nulls flag, the element type
//! oid, then per dimension its length and lower bound, then the elements.

use byteorder::{BigEndian, WriteBytesExt};
use std::io::{self, Write};

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Type oids of the array elements this module writes (`pg_type.oid`).
const BYTEA_OID: u32 = 17;
const TEXT_OID: u32 = 25;

/// A binary COPY payload being built.
pub struct CopyBuffer {
    bytes: Vec<u8>,
}

impl CopyBuffer {
    /// Bytes worth sending at once; [`CopyBuffer::is_full`] says when.
    pub const CHUNK: usize = 256 * 1024;

    /// Starts a payload with room for about `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> CopyBuffer {
        let mut bytes = Vec::with_capacity(capacity.min(Self::CHUNK) + SIGNATURE.len() + 10);
        bytes.extend_from_slice(SIGNATURE);
        put_i32(&mut bytes, 0); // flags: no OIDs
        put_i32(&mut bytes, 0); // no header extension
        CopyBuffer { bytes }
    }

    /// Starts a row of `fields` columns; the caller then writes exactly
    /// that many fields.
    pub fn row(&mut self, fields: i16) {
        put_i16(&mut self.bytes, fields);
    }

    pub fn int2(&mut self, value: i16) {
        put_i32(&mut self.bytes, 2);
        put_i16(&mut self.bytes, value);
    }

    pub fn int4(&mut self, value: i32) {
        put_i32(&mut self.bytes, 4);
        put_i32(&mut self.bytes, value);
    }

    pub fn int8(&mut self, value: i64) {
        put_i32(&mut self.bytes, 8);
        put_i64(&mut self.bytes, value);
    }

    pub fn uuid(&mut self, value: &[u8; 16]) {
        put_i32(&mut self.bytes, 16);
        self.bytes.extend_from_slice(value);
    }

    /// A `bytea` (or, for UTF-8 text, a `text`) value, or NULL.
    pub fn bytes(&mut self, value: Option<&[u8]>) {
        put_nullable(&mut self.bytes, value);
    }

    /// A one-dimensional `text[]`; every element is non-null.
    pub fn text_array<'a>(&mut self, elements: impl ExactSizeIterator<Item = &'a str>) {
        self.array(TEXT_OID, false, elements.map(|s| Some(s.as_bytes())));
    }

    /// A one-dimensional `bytea[]` whose elements may be NULL.
    pub fn bytea_array<'a>(
        &mut self,
        elements: impl ExactSizeIterator<Item = Option<&'a [u8]>> + Clone,
    ) {
        let has_nulls = elements.clone().any(|e| e.is_none());
        self.array(BYTEA_OID, has_nulls, elements);
    }

    /// NULL, for a column of any type.
    pub fn null(&mut self) {
        put_i32(&mut self.bytes, -1);
    }

    /// True once a chunk's worth is buffered and should be sent.
    pub fn is_full(&self) -> bool {
        self.bytes.len() >= Self::CHUNK
    }

    /// Sends what is buffered to `sink` and empties the buffer.
    pub fn send_to(&mut self, sink: &mut impl Write) -> io::Result<()> {
        sink.write_all(&self.bytes)?;
        self.bytes.clear();
        Ok(())
    }

    /// Ends the payload and sends the rest of it to `sink`.
    pub fn finish(mut self, sink: &mut impl Write) -> io::Result<()> {
        put_i16(&mut self.bytes, -1);
        self.send_to(sink)
    }

    fn array<'a>(
        &mut self,
        element_oid: u32,
        has_nulls: bool,
        elements: impl ExactSizeIterator<Item = Option<&'a [u8]>>,
    ) {
        let length_at = self.bytes.len();
        put_i32(&mut self.bytes, 0); // patched below
        put_i32(&mut self.bytes, 1); // dimensions
        put_i32(&mut self.bytes, i32::from(has_nulls));
        put_i32(&mut self.bytes, element_oid as i32);
        put_i32(&mut self.bytes, elements.len() as i32);
        put_i32(&mut self.bytes, 1); // lower bound
        for element in elements {
            put_nullable(&mut self.bytes, element);
        }
        let length = (self.bytes.len() - length_at - 4) as i32;
        self.bytes[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
    }
}

fn put_nullable(bytes: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(value) => {
            put_i32(bytes, value.len() as i32);
            bytes.extend_from_slice(value);
        }
        None => put_i32(bytes, -1),
    }
}

// Writing into a Vec cannot fail.
fn put_i16(bytes: &mut Vec<u8>, value: i16) {
    let _ = bytes.write_i16::<BigEndian>(value);
}

fn put_i32(bytes: &mut Vec<u8>, value: i32) {
    let _ = bytes.write_i32::<BigEndian>(value);
}

fn put_i64(bytes: &mut Vec<u8>, value: i64) {
    let _ = bytes.write_i64::<BigEndian>(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(copy: CopyBuffer) -> Vec<u8> {
        let mut sent = Vec::new();
        copy.finish(&mut sent).unwrap();
        sent
    }

    #[test]
    fn empty_payload_is_signature_header_and_trailer() {
        let bytes = finished(CopyBuffer::with_capacity(0));
        assert_eq!(&bytes[..11], SIGNATURE);
        assert_eq!(&bytes[11..19], &[0; 8]);
        assert_eq!(&bytes[19..], &[0xff, 0xff]);
    }

    #[test]
    fn fields_are_length_prefixed_big_endian() {
        let mut copy = CopyBuffer::with_capacity(0);
        copy.row(4);
        copy.int2(7);
        copy.int8(-2);
        copy.bytes(None);
        copy.bytes(Some(b"ab"));
        let bytes = finished(copy);
        assert_eq!(
            &bytes[19..bytes.len() - 2],
            &[
                0, 4, // field count
                0, 0, 0, 2, 0, 7, // int2
                0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, // int8
                0xff, 0xff, 0xff, 0xff, // NULL
                0, 0, 0, 2, b'a', b'b', // bytea
            ][..]
        );
    }

    #[test]
    fn chunks_sent_early_make_the_same_payload() {
        let rows = |copy: &mut CopyBuffer, sink: &mut Vec<u8>, send_early: bool| {
            for i in 0..3 {
                copy.row(1);
                copy.int4(i);
                if send_early {
                    copy.send_to(sink).unwrap();
                }
            }
        };
        let (mut early, mut late) = (Vec::new(), Vec::new());
        let mut copy = CopyBuffer::with_capacity(0);
        rows(&mut copy, &mut early, true);
        copy.finish(&mut early).unwrap();
        let mut copy = CopyBuffer::with_capacity(0);
        rows(&mut copy, &mut late, false);
        copy.finish(&mut late).unwrap();
        assert_eq!(early, late);
    }

    #[test]
    fn arrays_follow_array_send() {
        let mut copy = CopyBuffer::with_capacity(0);
        copy.bytea_array([Some(&b"x"[..]), None].into_iter());
        let bytes = finished(copy);
        let array = &bytes[19..bytes.len() - 2];
        let expect: Vec<u8> = [
            &29i32.to_be_bytes()[..], // length of what follows
            &1i32.to_be_bytes(),      // dimensions
            &1i32.to_be_bytes(),      // has nulls
            &17i32.to_be_bytes(),     // bytea
            &2i32.to_be_bytes(),      // elements
            &1i32.to_be_bytes(),      // lower bound
            &1i32.to_be_bytes(),
            b"x",
            &(-1i32).to_be_bytes(),
        ]
        .concat();
        assert_eq!(array, &expect[..]);
    }
}
