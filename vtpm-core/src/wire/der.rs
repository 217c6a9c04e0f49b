//! A strict, bounded DER reader and writer (ITU-T X.690, Distinguished
//! Encoding Rules), for the X.509 structures of `TPM2_CertifyX509`
//! (Part 3, 18.8; RFC 5280).
//!
//! The reader accepts only what DER allows: low-tag-number identifiers,
//! definite lengths in their shortest form, and contents that lie inside
//! the enclosing element. [`check_well_formed`] walks a whole element tree
//! (depth at most [`MAX_DEPTH`]) and also checks the primitive types whose
//! encoding DER fixes (BOOLEAN, INTEGER, NULL, OBJECT IDENTIFIER, BIT
//! STRING). Nothing is allocated while reading; every slice is a view of
//! the input. Any violation is [`DerError`].

use alloc::vec::Vec;

/// Identifier octets of the types used here (class, constructed bit and
/// tag number in one octet).
pub mod tag {
    /// `BOOLEAN`.
    pub const BOOLEAN: u8 = 0x01;
    /// `INTEGER`.
    pub const INTEGER: u8 = 0x02;
    /// `BIT STRING`.
    pub const BIT_STRING: u8 = 0x03;
    /// `OCTET STRING`.
    pub const OCTET_STRING: u8 = 0x04;
    /// `NULL`.
    pub const NULL: u8 = 0x05;
    /// `OBJECT IDENTIFIER`.
    pub const OID: u8 = 0x06;
    /// `SEQUENCE` / `SEQUENCE OF` (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// `[0]` constructed, context-specific (the TBSCertificate `version`).
    pub const CONTEXT_0: u8 = 0xA0;
    /// `[1]` constructed, context-specific.
    pub const CONTEXT_1: u8 = 0xA1;
    /// `[2]` constructed, context-specific.
    pub const CONTEXT_2: u8 = 0xA2;
    /// `[3]` constructed, context-specific (the TBSCertificate
    /// `extensions`).
    pub const CONTEXT_3: u8 = 0xA3;
}

/// Deepest nesting [`check_well_formed`] follows.
pub const MAX_DEPTH: usize = 16;

/// The input is not DER (or nests deeper than [`MAX_DEPTH`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerError;

/// One element: its identifier octet, its contents, and the whole
/// encoding (identifier, length and contents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Identifier octet.
    pub tag: u8,
    /// Contents octets.
    pub value: &'a [u8],
    /// The complete encoding of the element.
    pub raw: &'a [u8],
}

impl Tlv<'_> {
    /// Is the constructed bit set?
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

/// Reads consecutive elements from a buffer.
#[derive(Clone, Debug)]
pub struct DerReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> DerReader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        DerReader { buf, pos: 0 }
    }

    /// Everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn byte(&mut self) -> Result<u8, DerError> {
        let b = *self.buf.get(self.pos).ok_or(DerError)?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    /// The next element.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, DerError> {
        let start = self.pos;
        let tag = self.byte()?;
        if tag & 0x1F == 0x1F {
            // High tag numbers are not used by any structure read here.
            return Err(DerError);
        }
        let first = self.byte()?;
        let len = match first {
            0..=0x7F => usize::from(first),
            0x81 => {
                let l = self.byte()?;
                if l < 0x80 {
                    return Err(DerError);
                }
                usize::from(l)
            }
            0x82 => {
                let hi = self.byte()?;
                let lo = self.byte()?;
                let l = usize::from(hi) << 8 | usize::from(lo);
                if l < 0x100 {
                    return Err(DerError);
                }
                l
            }
            // Indefinite length (0x80) is BER only; longer length fields
            // exceed any buffer this TPM accepts.
            _ => return Err(DerError),
        };
        let end = self.pos.checked_add(len).ok_or(DerError)?;
        let value = self.buf.get(self.pos..end).ok_or(DerError)?;
        let raw = self.buf.get(start..end).ok_or(DerError)?;
        self.pos = end;
        Ok(Tlv { tag, value, raw })
    }

    /// The next element, which must have identifier `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, DerError> {
        let t = self.next_tlv()?;
        if t.tag == tag {
            Ok(t)
        } else {
            Err(DerError)
        }
    }

    /// The identifier of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }
}

/// Check that `buf` is exactly one DER element, well formed all the way
/// down (module documentation).
pub fn check_well_formed(buf: &[u8]) -> Result<Tlv<'_>, DerError> {
    let mut r = DerReader::new(buf);
    let t = r.next_tlv()?;
    if !r.is_empty() {
        return Err(DerError);
    }
    check_element(&t, 0)?;
    Ok(t)
}

fn check_element(t: &Tlv<'_>, depth: usize) -> Result<(), DerError> {
    if t.constructed() {
        if depth >= MAX_DEPTH {
            return Err(DerError);
        }
        let mut r = DerReader::new(t.value);
        while !r.is_empty() {
            check_element(&r.next_tlv()?, depth.saturating_add(1))?;
        }
        return Ok(());
    }
    let ok = match t.tag {
        tag::BOOLEAN => matches!(t.value, [0x00] | [0xFF]),
        tag::INTEGER => match t.value {
            [] => false,
            [0x00, b, ..] => *b >= 0x80,
            [0xFF, b, ..] => *b < 0x80,
            _ => true,
        },
        tag::NULL => t.value.is_empty(),
        tag::OID => t.value.last().is_some_and(|b| b & 0x80 == 0) && no_padded_arcs(t.value),
        tag::BIT_STRING => bit_string_bytes(t.value).is_ok(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(DerError)
    }
}

/// No OID arc starts with the padding octet 0x80 (X.690, 8.19.2).
fn no_padded_arcs(oid: &[u8]) -> bool {
    let mut at_start = true;
    for b in oid {
        if at_start && *b == 0x80 {
            return false;
        }
        at_start = b & 0x80 == 0;
    }
    true
}

/// The bits of a BIT STRING's contents (unused-bits octet first): the
/// octets, with the unused trailing bits checked to be zero (X.690,
/// 11.2.1) and at most 7 of them (none in an empty string).
pub fn bit_string_bytes(value: &[u8]) -> Result<&[u8], DerError> {
    let (&unused, bits) = value.split_first().ok_or(DerError)?;
    if unused > 7 || (bits.is_empty() && unused != 0) {
        return Err(DerError);
    }
    if let Some(last) = bits.last() {
        const MASKS: [u8; 8] = [0x00, 0x01, 0x03, 0x07, 0x0F, 0x1F, 0x3F, 0x7F];
        let mask = MASKS.get(usize::from(unused)).copied().ok_or(DerError)?;
        if last & mask != 0 {
            return Err(DerError);
        }
    }
    Ok(bits)
}

/// A BIT STRING of at most 32 bits as a `u32`, bit 0 of the string in
/// bit 31 (the layout of `TPMA_X509_KEY_USAGE` and of a big-endian
/// `TPMA_OBJECT` in its four octets).
pub fn bit_string_u32(value: &[u8]) -> Result<u32, DerError> {
    let bits = bit_string_bytes(value)?;
    if bits.len() > 4 {
        return Err(DerError);
    }
    let mut v = [0u8; 4];
    v.get_mut(..bits.len())
        .ok_or(DerError)?
        .copy_from_slice(bits);
    Ok(u32::from_be_bytes(v))
}

/// Append the identifier, the length and `content`.
pub fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.push(0x81);
        out.push(len as u8);
    } else {
        // Every structure built here is far below 64 KiB.
        let l = u16::try_from(len).unwrap_or(u16::MAX);
        out.push(0x82);
        out.extend_from_slice(&l.to_be_bytes());
    }
    out.extend_from_slice(content);
}

/// One element as a new vector.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(content.len().saturating_add(4));
    push_tlv(&mut v, tag, content);
    v
}

/// A SEQUENCE of already encoded elements.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude octets (leading zeros
/// dropped, one zero octet added when the top bit is set).
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let first = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len());
    let m = magnitude.get(first..).unwrap_or(&[]);
    let mut content = Vec::with_capacity(m.len().saturating_add(1));
    if m.first().is_none_or(|b| *b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(m);
    tlv(tag::INTEGER, &content)
}

/// An OBJECT IDENTIFIER from its arcs (at least two; the first two
/// combined as X.690, 8.19.4 requires).
pub fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    let mut push_arc = |mut v: u32| {
        let mut tmp = [0u8; 5];
        let mut n = 0usize;
        loop {
            if let Some(t) = tmp.get_mut(n) {
                *t = (v & 0x7F) as u8;
            }
            n = n.saturating_add(1);
            v >>= 7;
            if v == 0 || n >= tmp.len() {
                break;
            }
        }
        for i in (0..n).rev() {
            let b = tmp.get(i).copied().unwrap_or(0);
            content.push(if i == 0 { b } else { b | 0x80 });
        }
    };
    match arcs {
        [a, b, rest @ ..] => {
            push_arc(a.saturating_mul(40).saturating_add(*b));
            for r in rest {
                push_arc(*r);
            }
        }
        [a] => push_arc(a.saturating_mul(40)),
        [] => {}
    }
    tlv(tag::OID, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_encodings_match_x690_examples() {
        // sha256WithRSAEncryption, keyUsage, id-ecPublicKey, tcg-tpmaObject.
        assert_eq!(
            oid(&[1, 2, 840, 113_549, 1, 1, 11]),
            [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B]
        );
        assert_eq!(oid(&[2, 5, 29, 15]), [0x06, 0x03, 0x55, 0x1D, 0x0F]);
        assert_eq!(
            oid(&[1, 2, 840, 10045, 2, 1]),
            [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
        );
        assert_eq!(
            oid(&[2, 23, 133, 10, 1, 1, 1]),
            [0x06, 0x07, 0x67, 0x81, 0x05, 0x0A, 0x01, 0x01, 0x01]
        );
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 0x7F]), [0x02, 0x01, 0x7F]);
        assert_eq!(unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[]), [0x02, 0x01, 0x00]);
        assert!(check_well_formed(&unsigned_integer(&[0, 0xFF, 1])).is_ok());
    }

    #[test]
    fn lengths_round_trip_and_non_minimal_forms_are_refused() {
        for n in [0usize, 1, 127, 128, 255, 256, 1000] {
            let v = tlv(tag::OCTET_STRING, &alloc::vec![0u8; n]);
            let t = check_well_formed(&v).unwrap();
            assert_eq!(t.value.len(), n);
            assert_eq!(t.raw, v.as_slice());
        }
        // 0x81 with a length below 128, 0x82 below 256, indefinite, long.
        for bad in [
            &[0x04, 0x81, 0x01, 0x00][..],
            &[0x04, 0x82, 0x00, 0x01, 0x00],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x04, 0x83, 0x00, 0x00, 0x01, 0x00],
            &[0x04, 0x02, 0x00],
            &[0x1F, 0x01, 0x00],
            &[0x04, 0x01, 0x00, 0x00],
        ] {
            assert_eq!(check_well_formed(bad), Err(DerError), "{bad:02x?}");
        }
    }

    #[test]
    fn primitive_rules_and_depth() {
        for bad in [
            &[0x01, 0x01, 0x01][..],
            &[0x02, 0x00],
            &[0x02, 0x02, 0x00, 0x01],
            &[0x02, 0x02, 0xFF, 0x80],
            &[0x05, 0x01, 0x00],
            &[0x06, 0x01, 0x81],
            &[0x06, 0x02, 0x80, 0x01],
            &[0x03, 0x00],
            &[0x03, 0x01, 0x01],
            &[0x03, 0x02, 0x08, 0x00],
            &[0x03, 0x02, 0x01, 0x01],
            &[0x30, 0x03, 0x02, 0x02, 0x00],
        ] {
            assert_eq!(check_well_formed(bad), Err(DerError), "{bad:02x?}");
        }
        let mut nested = alloc::vec![0x05, 0x00];
        for _ in 0..MAX_DEPTH {
            nested = tlv(tag::SEQUENCE, &nested);
        }
        assert!(check_well_formed(&nested).is_ok());
        assert_eq!(
            check_well_formed(&tlv(tag::SEQUENCE, &nested)),
            Err(DerError)
        );
    }

    #[test]
    fn bit_strings_read_left_aligned() {
        assert_eq!(bit_string_u32(&[0x07, 0x80]), Ok(0x8000_0000));
        assert_eq!(bit_string_u32(&[0x05, 0xA0]), Ok(0xA000_0000));
        assert_eq!(
            bit_string_u32(&[0x00, 0x00, 0x04, 0x00, 0x72]),
            Ok(0x0004_0072)
        );
        assert_eq!(bit_string_u32(&[0x00, 1, 2, 3, 4, 5]), Err(DerError));
    }
}
