//! Authorization area (Part 1, 19; Part 3, 5.4-5.6): parsing the sessions
//! of a command, checking authorizations, building the response sessions.
//!
//! Password sessions (`TPM_RS_PW`) are complete here. HMAC and policy
//! sessions plug in at [`SessionIn::kind`]: a session handle the TPM does
//! not have loaded is `TPM_RC_REFERENCE_S0 + n`.

use alloc::vec::Vec;

use crate::wire::consts::{ht, rh, sizes};
use crate::wire::{Handle, Rc, Reader, TpmResult, Writer};

pub(crate) mod process;
pub mod session;

/// `TPMA_SESSION` bits (Part 2, 8.4).
pub mod attr {
    /// continueSession.
    pub const CONTINUE_SESSION: u8 = 0x01;
    /// auditExclusive.
    pub const AUDIT_EXCLUSIVE: u8 = 0x02;
    /// auditReset.
    pub const AUDIT_RESET: u8 = 0x04;
    /// Reserved bits 3 and 4.
    pub const RESERVED: u8 = 0x18;
    /// decrypt.
    pub const DECRYPT: u8 = 0x20;
    /// encrypt.
    pub const ENCRYPT: u8 = 0x40;
    /// audit.
    pub const AUDIT: u8 = 0x80;
}

/// Most sessions a command may carry (Part 1: three).
pub const MAX_SESSIONS: usize = 3;

/// What a session handle refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// `TPM_RS_PW`.
    Password,
    /// An HMAC session.
    Hmac,
    /// A policy session.
    Policy,
}

/// One command session (`TPMS_AUTH_COMMAND`).
#[derive(Clone, Debug)]
pub struct SessionIn {
    /// The session handle.
    pub handle: Handle,
    /// What the handle refers to.
    pub kind: SessionKind,
    /// nonceCaller.
    pub nonce: Vec<u8>,
    /// sessionAttributes.
    pub attrs: u8,
    /// hmac (the password for `TPM_RS_PW`).
    pub hmac: Vec<u8>,
}

/// Parse the authorization area (exactly `authSize` octets). Errors carry
/// the number of the session they concern.
pub fn parse_sessions(area: &[u8]) -> TpmResult<Vec<SessionIn>> {
    let mut r = Reader::new(area);
    let mut out = Vec::new();
    while !r.is_empty() {
        let n = u32::try_from(out.len().saturating_add(1)).unwrap_or(u32::MAX);
        if out.len() >= MAX_SESSIONS {
            // The reference answers a fourth session with TPM_RC_SIZE on it.
            return Err(Rc::SIZE.session(n));
        }
        let s = parse_one(&mut r).map_err(|e| e.session(n))?;
        out.push(s);
    }
    Ok(out)
}

fn parse_one(r: &mut Reader<'_>) -> TpmResult<SessionIn> {
    let handle: Handle = r.read()?;
    let kind = if handle == rh::PW {
        SessionKind::Password
    } else if handle.ht() == ht::HMAC_SESSION {
        SessionKind::Hmac
    } else if handle.ht() == ht::POLICY_SESSION {
        SessionKind::Policy
    } else {
        return Err(Rc::VALUE);
    };
    let nonce = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
    let attrs = r.u8()?;
    if attrs & attr::RESERVED != 0 {
        return Err(Rc::RESERVED_BITS);
    }
    let hmac = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
    Ok(SessionIn {
        handle,
        kind,
        nonce,
        attrs,
        hmac,
    })
}

/// Validate a password session's shape (Part 1, 19.8.4: nonce empty; it
/// cannot audit or encrypt).
pub fn check_password_session(s: &SessionIn) -> TpmResult<()> {
    if !s.nonce.is_empty() {
        return Err(Rc::NONCE);
    }
    if s.attrs
        & (attr::AUDIT | attr::ENCRYPT | attr::DECRYPT | attr::AUDIT_EXCLUSIVE | attr::AUDIT_RESET)
        != 0
    {
        return Err(Rc::ATTRIBUTES);
    }
    Ok(())
}

/// Trailing zero octets of an authValue are not significant (Part 1, 19.6.4.3).
pub fn trim_trailing_zeros(v: &[u8]) -> &[u8] {
    let end = v
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i.saturating_add(1));
    v.get(..end).unwrap_or_default()
}

/// Compare a presented password with an authValue in constant time.
pub fn password_matches(presented: &[u8], auth_value: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let a = trim_trailing_zeros(presented);
    let b = trim_trailing_zeros(auth_value);
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The response session of a password session (`TPMS_AUTH_RESPONSE`:
/// empty nonce, continueSession, empty hmac).
pub fn write_password_response(w: &mut Writer) {
    w.u16(0);
    w.u8(attr::CONTINUE_SESSION);
    w.u16(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_password_session() {
        let area = [0x40, 0, 0, 9, 0, 0, 1, 0, 2, b'h', b'i'];
        let s = parse_sessions(&area).unwrap_or_default();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, SessionKind::Password);
        assert_eq!(s[0].hmac, b"hi");
    }

    #[test]
    fn rejects_fourth_session() {
        let one = [0x40u8, 0, 0, 9, 0, 0, 1, 0, 0];
        let area: Vec<u8> = one.iter().copied().cycle().take(36).collect();
        assert_eq!(
            parse_sessions(&area).map(|v| v.len()),
            Err(Rc::SIZE.session(4))
        );
    }

    #[test]
    fn rejects_reserved_attribute_bits_with_session_number() {
        let area = [0x40, 0, 0, 9, 0, 0, 0x08, 0, 0];
        assert_eq!(
            parse_sessions(&area).map(|v| v.len()),
            Err(Rc::RESERVED_BITS.session(1))
        );
    }

    #[test]
    fn rejects_non_session_handle() {
        let area = [0x80, 0, 0, 0, 0, 0, 1, 0, 0];
        assert_eq!(
            parse_sessions(&area).map(|v| v.len()),
            Err(Rc::VALUE.session(1))
        );
    }

    #[test]
    fn password_ignores_trailing_zeros() {
        assert!(password_matches(b"abc\0\0", b"abc"));
        assert!(!password_matches(b"abd", b"abc"));
        assert!(password_matches(b"", b"\0"));
    }
}
