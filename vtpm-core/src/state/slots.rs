//! Crash-safe A/B storage of sealed blobs, independent of where the slots
//! live (two files, two host-provided buffers, two flash regions...).
//!
//! # Writing
//!
//! Every commit seals the new state with the newest generation plus one and
//! writes it into the slot that does **not** hold the newest valid state
//! ([`next_write`]). The newest state is never overwritten, so a write torn
//! by a crash leaves the previous state intact in the other slot. After a
//! failed write the newest position is unchanged and the next attempt goes
//! to the same slot again. The first write ever goes to slot A with
//! generation [`FIRST_GENERATION`]. A single-file store that writes a new
//! file and renames it over the old one uses the same format with only one
//! slot (pass `None` for the other).
//!
//! # Loading ([`choose`])
//!
//! * Both slots valid: the higher generation wins.
//! * One valid, the other absent or **damaged** (truncated, trailing data,
//!   bad magic, too large, failed authentication): the valid one wins and
//!   [`Chosen::other`] reports why the other was ignored, for the log.
//! * A slot that is intact but **foreign** is not damage a crash can cause,
//!   so it never silently loses to an older valid slot: a blob in an unknown
//!   format version (a newer release wrote it, and its generation cannot be
//!   read) or sealed under another key claiming a generation at least as new
//!   as the valid slot's is refused with [`LoadError::Unreadable`]. A
//!   foreign-key blob claiming an older generation is ignored and reported.
//! * No valid slot: [`LoadError::NoValidSlot`] with each slot's reason, or
//!   [`LoadError::Empty`] when both slots are absent — the only outcome
//!   after which manufacturing a fresh TPM is appropriate.
//! * Rollback: where the platform remembers the newest generation it has
//!   seen (a monotonic counter, or a value kept somewhere the host cannot
//!   rewind), a chosen generation below it is [`LoadError::Rollback`], and
//!   two absent slots are [`LoadError::Missing`]. The platform must advance
//!   its remembered generation only after the new slot is durable.
//! * Two valid slots with the same generation (which no sequence of writes
//!   and crashes produces) are accepted only when they hold the same state;
//!   otherwise [`LoadError::Ambiguous`].
//!
//! Nothing here ever replaces a refused state by a fresh one; the caller
//! reports the error.

use core::fmt;

use super::blob::{open, BlobError, BlobHeader, SealingKey};
use crate::crypto::secret::SecretBytes;

/// The generation of the very first blob written.
pub const FIRST_GENERATION: u64 = 1;

/// One of the two storage slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// The first slot.
    A,
    /// The second slot.
    B,
}

impl Slot {
    /// The other slot.
    pub const fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Slot::A => "A",
            Slot::B => "B",
        })
    }
}

/// The slot to write after `current` holds the newest valid state: the
/// other one.
pub const fn next_slot(current: Slot) -> Slot {
    current.other()
}

/// Where a state is stored: its slot and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    /// The slot.
    pub slot: Slot,
    /// The generation sealed into the blob.
    pub generation: u64,
}

/// Where the next commit goes, given the position of the newest valid state
/// (`None` before the first write): the other slot, one generation later.
/// `None` only when the generation counter is exhausted (after 2^64 - 1
/// writes), which callers report as a failed commit.
///
/// After a successful write the returned position becomes the newest; after
/// a failed one the newest is unchanged.
pub fn next_write(newest: Option<Position>) -> Option<Position> {
    match newest {
        None => Some(Position {
            slot: Slot::A,
            generation: FIRST_GENERATION,
        }),
        Some(p) => Some(Position {
            slot: next_slot(p.slot),
            generation: p.generation.checked_add(1)?,
        }),
    }
}

/// What became of the slot that was not chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotReport {
    /// The slot holds nothing.
    Absent,
    /// A valid state of this (older, or equal and identical) generation.
    Valid {
        /// Its generation.
        generation: u64,
    },
    /// Refused and ignored, for this reason (worth a warning in the log).
    Invalid(BlobError),
}

impl fmt::Display for SlotReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotReport::Absent => f.write_str("absent"),
            SlotReport::Valid { generation } => write!(f, "valid, generation {generation}"),
            SlotReport::Invalid(e) => write!(f, "ignored: {e}"),
        }
    }
}

/// The state [`choose`] picked.
#[derive(Debug)]
pub struct Chosen {
    /// The slot it came from.
    pub slot: Slot,
    /// Its authenticated header.
    pub header: BlobHeader,
    /// The serialized persistent state (feed to
    /// [`crate::state::PersistentState::from_bytes`]).
    pub plaintext: SecretBytes,
    /// What the other slot held.
    pub other: SlotReport,
}

impl Chosen {
    /// The chosen state's generation.
    pub fn generation(&self) -> u64 {
        self.header.generation
    }

    /// The chosen state's position, the `newest` for [`next_write`].
    pub fn position(&self) -> Position {
        Position {
            slot: self.slot,
            generation: self.header.generation,
        }
    }

    /// Where the next commit goes.
    pub fn next_write(&self) -> Option<Position> {
        next_write(Some(self.position()))
    }
}

/// Why no state could be loaded. The caller reports it and stops; it must
/// not manufacture a fresh TPM except after [`LoadError::Empty`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadError {
    /// Both slots are absent and the platform remembers no generation: a
    /// TPM that was never manufactured.
    Empty,
    /// Both slots are absent although the platform has seen this
    /// generation: the state was deleted.
    Missing {
        /// The generation the platform remembers.
        min_generation: u64,
    },
    /// Neither slot holds a valid state (`None` = absent).
    NoValidSlot {
        /// Why slot A was refused.
        a: Option<BlobError>,
        /// Why slot B was refused.
        b: Option<BlobError>,
    },
    /// A slot holds a state this release or key cannot open that is not
    /// older than the valid slot; falling back would roll the TPM back.
    Unreadable {
        /// The unreadable slot.
        slot: Slot,
        /// Why it cannot be opened.
        error: BlobError,
        /// The generation its (unauthenticated) header claims, when the
        /// format is known.
        claimed_generation: Option<u64>,
        /// The generation of the valid slot.
        valid_generation: u64,
    },
    /// Both slots are valid with the same generation but different states.
    Ambiguous {
        /// The shared generation.
        generation: u64,
    },
    /// The newest valid state is older than a generation already seen.
    Rollback {
        /// The newest valid generation in storage.
        found: u64,
        /// The generation the platform remembers.
        min: u64,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Reason<'a>(&'a Option<BlobError>);
        impl fmt::Display for Reason<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    None => f.write_str("absent"),
                    Some(e) => fmt::Display::fmt(e, f),
                }
            }
        }
        match self {
            LoadError::Empty => f.write_str("no sealed state in either slot"),
            LoadError::Missing { min_generation } => write!(
                f,
                "sealed state is missing from both slots, but generation {min_generation} \
                 was seen before: it was deleted"
            ),
            LoadError::NoValidSlot { a, b } => write!(
                f,
                "no valid sealed state: slot A: {}; slot B: {}",
                Reason(a),
                Reason(b)
            ),
            LoadError::Unreadable {
                slot,
                error,
                claimed_generation,
                valid_generation,
            } => {
                write!(f, "slot {slot} cannot be opened ({error})")?;
                match claimed_generation {
                    Some(g) => write!(f, " and claims generation {g}")?,
                    None => f.write_str(" and its generation is unknown")?,
                }
                write!(
                    f,
                    "; refusing to fall back to the older generation {valid_generation} in slot {}",
                    slot.other()
                )
            }
            LoadError::Ambiguous { generation } => write!(
                f,
                "both slots hold different states with the same generation {generation}"
            ),
            LoadError::Rollback { found, min } => write!(
                f,
                "rollback: the newest sealed state is generation {found}, \
                 but generation {min} was seen before"
            ),
        }
    }
}

impl core::error::Error for LoadError {}

/// Pick the state to load from the two slots (`None` = absent) under the
/// rules in the [module documentation](self). `min_generation` is the
/// newest generation the platform remembers having seen, if it can
/// remember one.
pub fn choose(
    slot_a: Option<&[u8]>,
    slot_b: Option<&[u8]>,
    key: &SealingKey,
    min_generation: Option<u64>,
) -> Result<Chosen, LoadError> {
    let a = slot_a.map(|b| open(key, b));
    let b = slot_b.map(|b| open(key, b));

    let chosen = match (a, b) {
        (None, None) => {
            return Err(match min_generation {
                Some(m) if m >= FIRST_GENERATION => LoadError::Missing { min_generation: m },
                _ => LoadError::Empty,
            })
        }
        (Some(Ok((ha, pa))), Some(Ok((hb, pb)))) => {
            if hb.generation > ha.generation {
                chosen(Slot::B, hb, pb, valid(&ha))
            } else if ha.generation > hb.generation || pa == pb {
                chosen(Slot::A, ha, pa, valid(&hb))
            } else {
                return Err(LoadError::Ambiguous {
                    generation: ha.generation,
                });
            }
        }
        (Some(Ok((h, p))), other) => one_valid(Slot::A, h, p, other, slot_b)?,
        (other, Some(Ok((h, p)))) => one_valid(Slot::B, h, p, other, slot_a)?,
        (a, b) => {
            return Err(LoadError::NoValidSlot {
                a: a.and_then(Result::err),
                b: b.and_then(Result::err),
            })
        }
    };

    if let Some(min) = min_generation {
        if chosen.header.generation < min {
            return Err(LoadError::Rollback {
                found: chosen.header.generation,
                min,
            });
        }
    }
    Ok(chosen)
}

fn chosen(slot: Slot, header: BlobHeader, plaintext: SecretBytes, other: SlotReport) -> Chosen {
    Chosen {
        slot,
        header,
        plaintext,
        other,
    }
}

fn valid(h: &BlobHeader) -> SlotReport {
    SlotReport::Valid {
        generation: h.generation,
    }
}

/// `slot` is valid; the other slot is absent or was refused with an error.
fn one_valid(
    slot: Slot,
    header: BlobHeader,
    plaintext: SecretBytes,
    other: Option<Result<(BlobHeader, SecretBytes), BlobError>>,
    other_bytes: Option<&[u8]>,
) -> Result<Chosen, LoadError> {
    let error = match other {
        None => return Ok(chosen(slot, header, plaintext, SlotReport::Absent)),
        Some(Ok((h, _))) => return Ok(chosen(slot, header, plaintext, valid(&h))),
        Some(Err(e)) => e,
    };
    let unreadable = |claimed_generation| LoadError::Unreadable {
        slot: slot.other(),
        error,
        claimed_generation,
        valid_generation: header.generation,
    };
    match error {
        // Written by another release: not crash damage, and its generation
        // is unknowable, so it may be the newer state.
        BlobError::UnknownFormatVersion(_) => Err(unreadable(None)),
        // Intact but sealed under another key: ignore it only when it is
        // older than the valid slot.
        BlobError::WrongKey { .. } => {
            let claimed = other_bytes
                .and_then(|b| BlobHeader::parse(b).ok())
                .map(|h| h.generation);
            match claimed {
                Some(g) if g < header.generation => {
                    Ok(chosen(slot, header, plaintext, SlotReport::Invalid(error)))
                }
                _ => Err(unreadable(claimed)),
            }
        }
        // Damage a torn write or corruption can cause.
        BlobError::TooLarge { .. }
        | BlobError::Truncated { .. }
        | BlobError::TrailingData { .. }
        | BlobError::BadMagic
        | BlobError::AuthenticationFailed => {
            Ok(chosen(slot, header, plaintext, SlotReport::Invalid(error)))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::state::blob::seal;

    #[test]
    fn next_write_alternates_and_counts() {
        let first = next_write(None).unwrap();
        assert_eq!(
            first,
            Position {
                slot: Slot::A,
                generation: 1
            }
        );
        let second = next_write(Some(first)).unwrap();
        assert_eq!(
            second,
            Position {
                slot: Slot::B,
                generation: 2
            }
        );
        assert_eq!(next_write(Some(second)).unwrap().slot, Slot::A);
        assert_eq!(next_slot(Slot::A), Slot::B);
        assert_eq!(next_slot(Slot::B), Slot::A);
        assert!(next_write(Some(Position {
            slot: Slot::A,
            generation: u64::MAX
        }))
        .is_none());
    }

    #[test]
    fn equal_generations_identical_state_is_accepted() {
        let k = SealingKey::new([3; 32]);
        let x = seal(&k, 5, &[1; 12], b"same").unwrap();
        let y = seal(&k, 5, &[2; 12], b"same").unwrap();
        let c = choose(Some(&x), Some(&y), &k, None).unwrap();
        assert_eq!(c.slot, Slot::A);
        assert_eq!(c.other, SlotReport::Valid { generation: 5 });
        let z = seal(&k, 5, &[3; 12], b"diff").unwrap();
        assert_eq!(
            choose(Some(&x), Some(&z), &k, None).unwrap_err(),
            LoadError::Ambiguous { generation: 5 }
        );
    }

    #[test]
    fn min_generation_zero_with_nothing_stored_is_empty() {
        let k = SealingKey::new([3; 32]);
        assert_eq!(
            choose(None, None, &k, Some(0)).unwrap_err(),
            LoadError::Empty
        );
        assert_eq!(
            choose(None, None, &k, Some(4)).unwrap_err(),
            LoadError::Missing { min_generation: 4 }
        );
    }
}
