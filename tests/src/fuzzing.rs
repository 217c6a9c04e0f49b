//! The property the `execute` fuzz target checks, shared with the corpus
//! replay test (`tests/tests/fuzz_replay.rs`) so both check the same thing.
//!
//! An input is a sequence of TPM commands run on a freshly manufactured and
//! started TPM ([`vtpm_core::testing::started_tpm`]). It is split by the
//! commands' own size fields: while the rest of the input starts with a
//! 10-byte header whose size field `s` satisfies `10 <= s <= rest`, the
//! first `s` bytes are one command; whatever is left (malformed header,
//! size too large or too small, trailing garbage) is sent as one last
//! command. So a single well-formed command is exactly one `execute`, and
//! concatenations reach the engine's state machine (extend then read,
//! shutdown then startup...).
//!
//! Every response must be well formed: at least 10 bytes, a tag of
//! `TPM_ST_NO_SESSIONS` or `TPM_ST_SESSIONS`, and a size field equal to
//! its length; an error response is exactly the 10-byte header with
//! `TPM_ST_NO_SESSIONS` (Part 1, 18.2 and Part 3, 5). The engine must not
//! panic on any input: a panic is a crash for the fuzzer and a failure for
//! the replay test.

use vtpm_core::testing::{started_tpm, TestPlatform};
use vtpm_core::Tpm;

/// The entropy seed of the TPM the fuzz target drives.
pub const SEED: u64 = 0x5EED_F022;

/// At most this many commands are taken from one input.
pub const MAX_COMMANDS: usize = 16;

/// Split an input into commands (see the module documentation).
pub fn split_commands(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() + 1 == MAX_COMMANDS {
            out.push(data);
            break;
        }
        let size = data
            .get(2..6)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        match size {
            Some(s) if (10..=data.len()).contains(&s) => {
                let (cmd, rest) = data.split_at(s);
                out.push(cmd);
                data = rest;
            }
            _ => {
                out.push(data);
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(data);
    }
    out
}

/// Check one response; `Err` describes what is wrong.
pub fn check_response(rsp: &[u8]) -> Result<(), String> {
    if rsp.len() < 10 {
        return Err(format!("response shorter than 10 bytes: {rsp:02x?}"));
    }
    let tag = u16::from_be_bytes([rsp[0], rsp[1]]);
    let size = u32::from_be_bytes([rsp[2], rsp[3], rsp[4], rsp[5]]) as usize;
    let rc = u32::from_be_bytes([rsp[6], rsp[7], rsp[8], rsp[9]]);
    if tag != 0x8001 && tag != 0x8002 {
        return Err(format!("bad response tag {tag:#06x}"));
    }
    if size != rsp.len() {
        return Err(format!(
            "response size field {size} != length {}",
            rsp.len()
        ));
    }
    if rc != 0 && (rsp.len() != 10 || tag != 0x8001) {
        return Err(format!(
            "error response rc={rc:#x} is not a bare 10-byte TPM_ST_NO_SESSIONS header: {rsp:02x?}"
        ));
    }
    Ok(())
}

/// A started TPM for the fuzz target.
pub fn fresh_tpm() -> Tpm<TestPlatform> {
    match started_tpm(SEED) {
        Some(t) => t,
        None => panic!("vtpm_core::testing::started_tpm failed: the engine cannot start"),
    }
}

/// Run one fuzz input on `tpm`; `Err` describes the first bad response.
pub fn run_input(tpm: &mut Tpm<TestPlatform>, data: &[u8]) -> Result<(), String> {
    for (i, cmd) in split_commands(data).into_iter().enumerate() {
        let rsp = tpm.execute(0, cmd);
        check_response(&rsp).map_err(|e| format!("command #{i} ({cmd:02x?}): {e}"))?;
    }
    Ok(())
}

/// The property of the `state_blob` fuzz target: arbitrary bytes offered as
/// a sealed state blob (and as both A/B slots) under a known key are refused
/// cleanly or open to a state that parses; never a panic. The input's
/// first octet chooses how it is presented.
pub fn blob_input(data: &[u8]) -> Result<(), String> {
    use vtpm_core::state::blob::{open, seal, SealingKey};
    use vtpm_core::state::slots::choose;
    use vtpm_core::state::PersistentState;
    let key = SealingKey::new([0x42; 32]);
    let (mode, rest) = data.split_first().map_or((0, data), |(m, r)| (*m, r));
    match mode % 3 {
        // Raw bytes as a blob.
        0 => {
            if let Ok((_, pt)) = open(&key, rest) {
                let _ = PersistentState::from_bytes(&pt);
            }
        }
        // A genuine seal of arbitrary plaintext: it must open, and the
        // state loader must refuse or accept it without panicking.
        1 => {
            let blob = seal(&key, 1, &[7; 12], rest).map_err(|e| format!("seal failed: {e}"))?;
            let (_, pt) = open(&key, &blob).map_err(|e| format!("own seal did not open: {e}"))?;
            if pt.as_slice() != rest {
                return Err("plaintext changed in a seal/open round trip".into());
            }
            let _ = PersistentState::from_bytes(&pt);
        }
        // Split into two slots.
        _ => {
            let cut = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len());
            let (a, b) = rest.split_at(cut);
            if let Ok(c) = choose(Some(a), Some(b), &key, Some(1)) {
                let _ = PersistentState::from_bytes(&c.plaintext);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_size_fields() {
        let a = [0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0];
        let b = [0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x7b];
        let mut two = a.to_vec();
        two.extend_from_slice(&b);
        assert_eq!(split_commands(&two), vec![&a[..], &b[..]]);
        let mut tail = two.clone();
        tail.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            split_commands(&tail),
            vec![&a[..], &b[..], &[1u8, 2, 3][..]]
        );
        assert_eq!(split_commands(&[]), vec![&[][..]]);
        // A size field larger than the input: the whole input is one command.
        let big = [0x80, 1, 0, 0, 1, 0, 0, 0];
        assert_eq!(split_commands(&big), vec![&big[..]]);
    }

    #[test]
    fn response_check() {
        assert!(check_response(&[0x80, 1, 0, 0, 0, 10, 0, 0, 0, 0]).is_ok());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0]).is_ok());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 11, 0, 0, 0, 0]).is_err());
        assert!(check_response(&[0x80, 2, 0, 0, 0, 10, 0, 0, 1, 0]).is_err());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 9, 0, 0, 0]).is_err());
    }
}
