//! The one cursor for untrusted bytes and the marshalling traits.
//!
//! [`Reader`] offers only checked operations: nothing in the engine indexes a
//! slice that came from outside. A short buffer is `TPM_RC_INSUFFICIENT`, a
//! TPM2B larger than its Part 2 maximum is `TPM_RC_SIZE` (Part 3, 5.2: the
//! rules the reference unmarshalling code follows).

use alloc::vec::Vec;

use super::rc::{Rc, TpmResult};

/// A checked cursor over untrusted input.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Wrap a slice.
    pub const fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not yet consumed.
    pub const fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unconsumed bytes, without consuming them.
    pub const fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// True when everything has been consumed.
    pub const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Take `n` bytes or fail with `TPM_RC_INSUFFICIENT`.
    pub fn take(&mut self, n: usize) -> TpmResult<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(Rc::INSUFFICIENT)?;
        self.buf = tail;
        Ok(head)
    }

    /// Take a fixed-size array.
    pub fn take_array<const N: usize>(&mut self) -> TpmResult<[u8; N]> {
        let (head, tail) = self.buf.split_first_chunk::<N>().ok_or(Rc::INSUFFICIENT)?;
        self.buf = tail;
        Ok(*head)
    }

    /// Read a big-endian u8.
    pub fn u8(&mut self) -> TpmResult<u8> {
        Ok(u8::from_be_bytes(self.take_array()?))
    }
    /// Read a big-endian u16.
    pub fn u16(&mut self) -> TpmResult<u16> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }
    /// Read a big-endian u32.
    pub fn u32(&mut self) -> TpmResult<u32> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }
    /// Read a big-endian u64.
    pub fn u64(&mut self) -> TpmResult<u64> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Read a TPM2B body: a u16 size no larger than `max`, then that many bytes.
    pub fn tpm2b(&mut self, max: usize) -> TpmResult<&'a [u8]> {
        let size = usize::from(self.u16()?);
        if size > max {
            return Err(Rc::SIZE);
        }
        self.take(size)
    }

    /// A sub-reader over the next `n` bytes (for a size-prefixed structure).
    pub fn sub(&mut self, n: usize) -> TpmResult<Reader<'a>> {
        Ok(Reader::new(self.take(n)?))
    }

    /// Unmarshal a value of type `T`.
    pub fn read<T: Unmarshal>(&mut self) -> TpmResult<T> {
        T::unmarshal(self)
    }

    /// Succeeds only if no bytes are left (`TPM_RC_SIZE` otherwise).
    pub fn finish(&self) -> TpmResult<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Rc::SIZE)
        }
    }
}

/// An append-only output buffer for responses and for structures the
/// engine hashes (Names, cpHash input, policy digests).
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub const fn new() -> Self {
        Writer { buf: Vec::new() }
    }
    /// An empty writer with room for `n` octets before it grows.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }
    /// Append raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    /// Append a u8.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Append a big-endian u16.
    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }
    /// Append a big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }
    /// Append a big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }
    /// Append a TPM2B: u16 size then the bytes. Callers only pass buffers
    /// the engine bounded itself (all far below 64 KiB); longer input is
    /// truncated rather than emitting a lying size.
    pub fn tpm2b(&mut self, b: &[u8]) {
        let n = u16::try_from(b.len()).unwrap_or(u16::MAX);
        self.u16(n);
        self.bytes(b.get(..usize::from(n)).unwrap_or_default());
    }
    /// Append a marshalable value.
    pub fn write<T: Marshal + ?Sized>(&mut self, v: &T) {
        v.marshal(self);
    }
    /// Append a size-prefixed structure (u16 size, then the structure), as
    /// `TPM2B_PUBLIC`, `TPM2B_SENSITIVE_CREATE` and friends are marshalled.
    pub fn sized<F: FnOnce(&mut Writer)>(&mut self, f: F) {
        let mut inner = Writer::new();
        f(&mut inner);
        self.tpm2b(&inner.buf);
    }
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    /// True if nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    /// View the bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }
    /// Take the bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

/// Types that can be read from the wire (Part 2 unmarshalling).
pub trait Unmarshal: Sized {
    /// Read one value; errors carry no position (the caller attaches it).
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self>;
}

/// Types that can be written to the wire.
pub trait Marshal {
    /// Append the wire form.
    fn marshal(&self, w: &mut Writer);

    /// The wire form as a vector (for hashing).
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.marshal(&mut w);
        w.into_vec()
    }
}

macro_rules! int_codec {
    ($($t:ty => $m:ident),*) => {$(
        impl Unmarshal for $t {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> { r.$m() }
        }
        impl Marshal for $t {
            fn marshal(&self, w: &mut Writer) { w.$m(*self) }
        }
    )*};
}
int_codec!(u8 => u8, u16 => u16, u32 => u32, u64 => u64);

/// Reads the parameters of one command, numbering them so that an
/// unmarshalling error carries `TPM_RC_P + n` (Part 2, 6.6.3).
#[derive(Debug)]
pub struct Params<'a> {
    r: Reader<'a>,
    n: u32,
}

impl<'a> Params<'a> {
    /// Start at the first parameter.
    pub const fn new(buf: &'a [u8]) -> Self {
        Params {
            r: Reader::new(buf),
            n: 0,
        }
    }

    /// Read the next parameter.
    pub fn read<T: Unmarshal>(&mut self) -> TpmResult<T> {
        self.n = self.n.saturating_add(1);
        let n = self.n;
        T::unmarshal(&mut self.r).map_err(|e| e.param(n))
    }

    /// Read the next parameter with a custom reader function.
    pub fn next_with<T>(
        &mut self,
        f: impl FnOnce(&mut Reader<'a>) -> TpmResult<T>,
    ) -> TpmResult<T> {
        self.n = self.n.saturating_add(1);
        let n = self.n;
        f(&mut self.r).map_err(|e| e.param(n))
    }

    /// All parameters must be consumed exactly (Part 3, 5.2: `TPM_RC_SIZE`).
    pub fn finish(&self) -> TpmResult<()> {
        self.r.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_truncated_integers() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(Rc::INSUFFICIENT));
        // A failed read consumes nothing.
        assert_eq!(r.u16(), Ok(0x0102));
    }

    #[test]
    fn rejects_oversized_tpm2b() {
        let mut r = Reader::new(&[0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(r.clone().tpm2b(4), Err(Rc::SIZE));
        assert_eq!(r.tpm2b(5), Ok(&[1u8, 2, 3, 4, 5][..]));
    }

    #[test]
    fn rejects_truncated_tpm2b() {
        let mut r = Reader::new(&[0, 5, 1, 2]);
        assert_eq!(r.tpm2b(64), Err(Rc::INSUFFICIENT));
    }

    #[test]
    fn params_number_their_errors() {
        let mut p = Params::new(&[0, 1, 0]);
        assert_eq!(p.read::<u16>(), Ok(1));
        assert_eq!(p.read::<u16>(), Err(Rc::INSUFFICIENT.param(2)));
    }

    #[test]
    fn round_trips_integers() {
        let mut w = Writer::new();
        w.write(&0x0102_0304u32);
        w.tpm2b(&[9, 9]);
        let mut r = Reader::new(w.as_slice());
        assert_eq!(r.read::<u32>(), Ok(0x0102_0304));
        assert_eq!(r.tpm2b(2), Ok(&[9u8, 9][..]));
        assert!(r.finish().is_ok());
    }
}
