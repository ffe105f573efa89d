//! The Kafka wire types, each read and written in exactly one place.
//!
//! Every request and response in [`super::messages`] is built from these
//! helpers; nothing else in the codebase touches raw bytes of a message.
//! See <https://kafka.apache.org/protocol#protocol_types>.
//!
//! "Flexible" versions (KIP-482) use compact encodings: lengths are unsigned
//! varints holding `length + 1` (so 0 means null) and every struct ends with
//! a tagged-field section. The `flexible` flag on each helper picks the
//! encoding, so a message codec reads like the JSON schema it follows.
//!
//! The [`Reader`] never trusts a length from the peer: it checks every length
//! against the bytes actually left before it allocates, so a hostile frame
//! cannot make the broker reserve more memory than the frame itself holds.

use byteorder::{BigEndian, ByteOrder};
use std::fmt;

/// Why a frame could not be decoded. Decoding errors close the connection
/// that sent the frame (as Kafka does); they never take the process down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The frame ended before the value did.
    Truncated { needed: usize, remaining: usize },
    /// A length or count was negative where that is not allowed, or larger
    /// than what the frame can possibly hold.
    InvalidLength(i64),
    /// A varint ran past its maximum width.
    InvalidVarint,
    /// A string was not valid UTF-8.
    InvalidUtf8,
    /// Any other malformed value, with a description for the log.
    Invalid(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { needed, remaining } => {
                write!(f, "truncated: needed {needed} bytes, {remaining} left")
            }
            DecodeError::InvalidLength(n) => write!(f, "invalid length or count {n}"),
            DecodeError::InvalidVarint => write!(f, "varint too long"),
            DecodeError::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            DecodeError::Invalid(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

pub type Result<T> = std::result::Result<T, DecodeError>;

/// A cursor over one received frame.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread rest of the frame.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn i8(&mut self) -> Result<i8> {
        Ok(self.take(1)?[0] as i8)
    }

    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.i8()? != 0)
    }

    pub fn i16(&mut self) -> Result<i16> {
        Ok(BigEndian::read_i16(self.take(2)?))
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(BigEndian::read_u16(self.take(2)?))
    }

    pub fn i32(&mut self) -> Result<i32> {
        Ok(BigEndian::read_i32(self.take(4)?))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(BigEndian::read_u32(self.take(4)?))
    }

    pub fn i64(&mut self) -> Result<i64> {
        Ok(BigEndian::read_i64(self.take(8)?))
    }

    pub fn f64(&mut self) -> Result<f64> {
        Ok(BigEndian::read_f64(self.take(8)?))
    }

    pub fn uuid(&mut self) -> Result<[u8; 16]> {
        let mut out = [0u8; 16];
        out.copy_from_slice(self.take(16)?);
        Ok(out)
    }

    /// Unsigned LEB128 varint of at most 32 bits.
    pub fn unsigned_varint(&mut self) -> Result<u32> {
        let v = self.unsigned_varlong_max(5)?;
        u32::try_from(v).map_err(|_| DecodeError::InvalidVarint)
    }

    /// Zig-zag signed varint (record fields).
    pub fn varint(&mut self) -> Result<i32> {
        let v = self.unsigned_varint()?;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }

    pub fn unsigned_varlong(&mut self) -> Result<u64> {
        self.unsigned_varlong_max(10)
    }

    /// Zig-zag signed varlong (record timestamps).
    pub fn varlong(&mut self) -> Result<i64> {
        let v = self.unsigned_varlong()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn unsigned_varlong_max(&mut self, max_bytes: usize) -> Result<u64> {
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::InvalidVarint)
    }

    /// A length that must fit in what is left of the frame.
    fn checked_len(&self, len: i64) -> Result<usize> {
        if len < 0 || len as u64 > self.remaining() as u64 {
            if len >= 0 {
                return Err(DecodeError::Truncated {
                    needed: len as usize,
                    remaining: self.remaining(),
                });
            }
            return Err(DecodeError::InvalidLength(len));
        }
        Ok(len as usize)
    }

    /// Length prefix of a string/bytes value: `None` is null.
    fn length_prefix(&mut self, flexible: bool, wide: bool) -> Result<Option<usize>> {
        let len: i64 = if flexible {
            i64::from(self.unsigned_varint()?) - 1
        } else if wide {
            i64::from(self.i32()?)
        } else {
            i64::from(self.i16()?)
        };
        if len == -1 {
            return Ok(None);
        }
        self.checked_len(len).map(Some)
    }

    pub fn nullable_string(&mut self, flexible: bool) -> Result<Option<String>> {
        match self.length_prefix(flexible, false)? {
            None => Ok(None),
            Some(n) => {
                let raw = self.take(n)?;
                let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8)?;
                Ok(Some(s.to_owned()))
            }
        }
    }

    /// A non-nullable string. A null on the wire is read as an empty string,
    /// as Kafka's generated code is lenient here too.
    pub fn string(&mut self, flexible: bool) -> Result<String> {
        Ok(self.nullable_string(flexible)?.unwrap_or_default())
    }

    pub fn nullable_bytes(&mut self, flexible: bool) -> Result<Option<&'a [u8]>> {
        match self.length_prefix(flexible, true)? {
            None => Ok(None),
            Some(n) => self.take(n).map(Some),
        }
    }

    pub fn bytes(&mut self, flexible: bool) -> Result<&'a [u8]> {
        Ok(self.nullable_bytes(flexible)?.unwrap_or(&[]))
    }

    /// Element count of an array; `None` is a null array. The count is bounded
    /// by the bytes left, since every element takes at least one byte.
    pub fn nullable_array_len(&mut self, flexible: bool) -> Result<Option<usize>> {
        let len: i64 = if flexible {
            i64::from(self.unsigned_varint()?) - 1
        } else {
            i64::from(self.i32()?)
        };
        if len == -1 {
            return Ok(None);
        }
        self.checked_len(len).map(Some)
    }

    /// Reads an array whose elements `read_one` decodes. Null reads as empty.
    pub fn array<T>(
        &mut self,
        flexible: bool,
        read_one: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        Ok(self.nullable_array(flexible, read_one)?.unwrap_or_default())
    }

    pub fn nullable_array<T>(
        &mut self,
        flexible: bool,
        mut read_one: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Option<Vec<T>>> {
        let Some(len) = self.nullable_array_len(flexible)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(read_one(self)?);
        }
        Ok(Some(out))
    }

    /// Reads the tagged-field section of a flexible struct, handing each
    /// field to `on_field(tag, reader over its bytes)`. Unknown tags are
    /// skipped, as the protocol requires. Does nothing when not flexible.
    pub fn tagged_fields(
        &mut self,
        flexible: bool,
        mut on_field: impl FnMut(u32, &mut Reader<'a>) -> Result<()>,
    ) -> Result<()> {
        if !flexible {
            return Ok(());
        }
        let count = self.unsigned_varint()?;
        self.checked_len(i64::from(count))?;
        for _ in 0..count {
            let tag = self.unsigned_varint()?;
            let size = self.unsigned_varint()?;
            let size = self.checked_len(i64::from(size))?;
            let mut field = Reader::new(self.take(size)?);
            on_field(tag, &mut field)?;
        }
        Ok(())
    }

    /// Skips a tagged-field section whose fields this message does not use.
    pub fn skip_tagged_fields(&mut self, flexible: bool) -> Result<()> {
        self.tagged_fields(flexible, |_, _| Ok(()))
    }
}

/// Appends wire values to a growing buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn i8(&mut self, v: i8) {
        self.buf.push(v as u8);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn uuid(&mut self, v: &[u8; 16]) {
        self.buf.extend_from_slice(v);
    }

    pub fn unsigned_varint(&mut self, v: u32) {
        self.unsigned_varlong(u64::from(v));
    }

    pub fn varint(&mut self, v: i32) {
        self.unsigned_varint(((v << 1) ^ (v >> 31)) as u32);
    }

    pub fn unsigned_varlong(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub fn varlong(&mut self, v: i64) {
        self.unsigned_varlong(((v << 1) ^ (v >> 63)) as u64);
    }

    fn length_prefix(&mut self, flexible: bool, wide: bool, len: Option<usize>) {
        match (flexible, len) {
            (true, None) => self.unsigned_varint(0),
            (true, Some(n)) => self.unsigned_varint(n as u32 + 1),
            (false, None) if wide => self.i32(-1),
            (false, None) => self.i16(-1),
            (false, Some(n)) if wide => self.i32(n as i32),
            (false, Some(n)) => self.i16(n as i16),
        }
    }

    pub fn string(&mut self, flexible: bool, s: &str) {
        self.length_prefix(flexible, false, Some(s.len()));
        self.raw(s.as_bytes());
    }

    pub fn nullable_string(&mut self, flexible: bool, s: Option<&str>) {
        self.length_prefix(flexible, false, s.map(str::len));
        if let Some(s) = s {
            self.raw(s.as_bytes());
        }
    }

    pub fn bytes(&mut self, flexible: bool, b: &[u8]) {
        self.length_prefix(flexible, true, Some(b.len()));
        self.raw(b);
    }

    pub fn nullable_bytes(&mut self, flexible: bool, b: Option<&[u8]>) {
        self.length_prefix(flexible, true, b.map(<[u8]>::len));
        if let Some(b) = b {
            self.raw(b);
        }
    }

    /// Writes an array length; `None` is a null array.
    pub fn nullable_array_len(&mut self, flexible: bool, len: Option<usize>) {
        match (flexible, len) {
            (true, None) => self.unsigned_varint(0),
            (true, Some(n)) => self.unsigned_varint(n as u32 + 1),
            (false, None) => self.i32(-1),
            (false, Some(n)) => self.i32(n as i32),
        }
    }

    pub fn array_len(&mut self, flexible: bool, len: usize) {
        self.nullable_array_len(flexible, Some(len));
    }

    /// Writes every item of `items` as an array.
    pub fn array<T>(
        &mut self,
        flexible: bool,
        items: &[T],
        mut write_one: impl FnMut(&mut Self, &T),
    ) {
        self.array_len(flexible, items.len());
        for item in items {
            write_one(self, item);
        }
    }

    pub fn nullable_array<T>(
        &mut self,
        flexible: bool,
        items: Option<&[T]>,
        mut write_one: impl FnMut(&mut Self, &T),
    ) {
        self.nullable_array_len(flexible, items.map(<[T]>::len));
        for item in items.unwrap_or(&[]) {
            write_one(self, item);
        }
    }

    /// An empty tagged-field section (flexible versions only). Kafka writes
    /// optional tagged fields only when they differ from their default; an
    /// old librdkafka cannot read an ApiVersions reply that carries defaults.
    pub fn empty_tagged_fields(&mut self, flexible: bool) {
        if flexible {
            self.unsigned_varint(0);
        }
    }

    /// A tagged-field section with the given `(tag, encoded value)` fields,
    /// which must be in ascending tag order.
    pub fn tagged_fields(&mut self, flexible: bool, fields: &[(u32, Vec<u8>)]) {
        if !flexible {
            return;
        }
        self.unsigned_varint(fields.len() as u32);
        for (tag, value) in fields {
            self.unsigned_varint(*tag);
            self.unsigned_varint(value.len() as u32);
            self.raw(value);
        }
    }

    /// Reserves room for a big-endian i32 to be filled in later with
    /// [`Writer::patch_i32`]; returns its position.
    pub fn reserve_i32(&mut self) -> usize {
        let at = self.buf.len();
        self.i32(0);
        at
    }

    pub fn patch_i32(&mut self, at: usize, v: i32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_round_trip(v: i32) {
            let mut w = Writer::new();
            w.varint(v);
            prop_assert_eq!(Reader::new(&w.buf).varint()?, v);
        }

        #[test]
        fn varlong_round_trip(v: i64) {
            let mut w = Writer::new();
            w.varlong(v);
            prop_assert_eq!(Reader::new(&w.buf).varlong()?, v);
        }

        #[test]
        fn unsigned_varint_round_trip(v: u32) {
            let mut w = Writer::new();
            w.unsigned_varint(v);
            prop_assert_eq!(Reader::new(&w.buf).unsigned_varint()?, v);
        }

        #[test]
        fn strings_round_trip(s: Option<String>, flexible: bool) {
            let mut w = Writer::new();
            w.nullable_string(flexible, s.as_deref());
            w.string(flexible, s.as_deref().unwrap_or(""));
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.nullable_string(flexible)?, s.clone());
            prop_assert_eq!(r.string(flexible)?, s.unwrap_or_default());
            prop_assert!(r.is_empty());
        }

        #[test]
        fn bytes_round_trip(b: Option<Vec<u8>>, flexible: bool) {
            let mut w = Writer::new();
            w.nullable_bytes(flexible, b.as_deref());
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.nullable_bytes(flexible)?.map(<[u8]>::to_vec), b);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn arrays_round_trip(items: Option<Vec<i32>>, flexible: bool) {
            let mut w = Writer::new();
            w.nullable_array(flexible, items.as_deref(), |w, v| w.i32(*v));
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.nullable_array(flexible, |r| r.i32())?, items);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn fixed_width_round_trip(a: i8, b: i16, c: i32, d: i64, e: [u8; 16]) {
            let mut w = Writer::new();
            w.i8(a); w.i16(b); w.i32(c); w.i64(d); w.uuid(&e);
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!((r.i8()?, r.i16()?, r.i32()?, r.i64()?, r.uuid()?), (a, b, c, d, e));
        }

        /// Arbitrary bytes never panic the reader, whatever we ask of it.
        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, flexible: bool) {
            let mut r = Reader::new(&bytes);
            let _ = r.nullable_array(flexible, |r| r.nullable_string(flexible));
            let _ = r.tagged_fields(flexible, |_, f| f.bytes(flexible).map(|_| ()));
        }
    }

    #[test]
    fn huge_array_count_is_rejected_before_allocating() {
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(r.array(false, |r| r.i8()).is_err());
    }

    #[test]
    fn tagged_fields_are_read_and_unknown_ones_skipped() {
        let mut w = Writer::new();
        w.tagged_fields(true, &[(0, vec![1, 2]), (7, vec![9])]);
        let mut seen = Vec::new();
        Reader::new(&w.buf)
            .tagged_fields(true, |tag, f| {
                seen.push((tag, f.rest().to_vec()));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![(0, vec![1, 2]), (7, vec![9])]);
    }
}
