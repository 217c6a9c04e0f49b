//! Deterministic stand-ins for what a real SVSM provides: entropy, a clock,
//! a host blob store and an SNP key source. For tests, fuzzing and the host
//! simulator — **never** for a real deployment (the entropy is a
//! predictable stream and the "derived key" a constant).

use alloc::vec::Vec;

use vtpm_core::state::slots::Slot;

use crate::snp::{MsgKeyReq, MsgKeyRsp, SnpKeyError, SnpKeySource, KEY_STATUS_SUCCESS};
use crate::storage::{BlobStore, Clock, EntropyError, EntropySource, StoreError};

/// A seeded xorshift stream. Predictable: tests only.
#[derive(Clone, Debug)]
pub struct TestEntropy {
    state: u64,
    /// When true, every request fails.
    pub fail: bool,
}

impl TestEntropy {
    /// A stream determined by `seed`.
    pub fn new(seed: u64) -> Self {
        TestEntropy {
            state: seed | 1,
            fail: false,
        }
    }
}

impl EntropySource for TestEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), EntropyError> {
        if self.fail {
            return Err(EntropyError);
        }
        for b in buf {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state.to_le_bytes()[0];
        }
        Ok(())
    }
}

/// A clock that advances by `tick_ms` at every read.
#[derive(Clone, Debug)]
pub struct TestClock {
    /// Current time.
    pub now_ms: u64,
    /// Advance per read.
    pub tick_ms: u64,
}

impl Default for TestClock {
    fn default() -> Self {
        TestClock {
            now_ms: 1_000,
            tick_ms: 1,
        }
    }
}

impl Clock for TestClock {
    fn now_ms(&mut self) -> u64 {
        self.now_ms = self.now_ms.saturating_add(self.tick_ms);
        self.now_ms
    }
}

/// Two slots in memory, with knobs to make the host misbehave.
#[derive(Clone, Debug, Default)]
pub struct MemoryBlobStore {
    /// Slot A.
    pub a: Option<Vec<u8>>,
    /// Slot B.
    pub b: Option<Vec<u8>>,
    /// Writes so far.
    pub writes: usize,
    /// When true, writes fail (nothing is stored).
    pub fail_writes: bool,
    /// When `Some(n)`, the next write stores only its first `n` bytes and
    /// then reports success, like a host that tore the write and lied.
    pub tear_next_write: Option<usize>,
}

impl MemoryBlobStore {
    /// The contents of `slot`.
    pub fn slot(&self, slot: Slot) -> Option<&Vec<u8>> {
        match slot {
            Slot::A => self.a.as_ref(),
            Slot::B => self.b.as_ref(),
        }
    }

    /// The contents of `slot`, mutably.
    pub fn slot_mut(&mut self, slot: Slot) -> &mut Option<Vec<u8>> {
        match slot {
            Slot::A => &mut self.a,
            Slot::B => &mut self.b,
        }
    }
}

impl BlobStore for MemoryBlobStore {
    fn read_slot(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.slot(slot).cloned())
    }

    fn write_slot(&mut self, slot: Slot, blob: &[u8]) -> Result<(), StoreError> {
        if self.fail_writes {
            return Err(StoreError::Io);
        }
        let stored = match self.tear_next_write.take() {
            Some(n) => blob.get(..n).unwrap_or(blob).to_vec(),
            None => blob.to_vec(),
        };
        *self.slot_mut(slot) = Some(stored);
        self.writes = self.writes.saturating_add(1);
        Ok(())
    }
}

/// An "SNP firmware" that derives a key from a fixed chip secret and the
/// request, the way the real one mixes the selected fields: different
/// requests give different keys, the same request the same key.
#[derive(Clone, Debug)]
pub struct TestKeySource {
    /// The chip secret.
    pub chip_secret: [u8; 32],
    /// The `STATUS` to answer with.
    pub status: u32,
    /// Requests seen.
    pub requests: Vec<MsgKeyReq>,
}

impl TestKeySource {
    /// A key source for the chip with this secret.
    pub fn new(chip_secret: [u8; 32]) -> Self {
        TestKeySource {
            chip_secret,
            status: KEY_STATUS_SUCCESS,
            requests: Vec::new(),
        }
    }
}

impl SnpKeySource for TestKeySource {
    fn request_key(&mut self, request: &MsgKeyReq) -> Result<MsgKeyRsp, SnpKeyError> {
        self.requests.push(*request);
        let digest = vtpm_core::crypto::HashAlg::Sha256
            .digest_parts(&[&self.chip_secret, &request.to_bytes()]);
        let mut derived_key = [0u8; 32];
        for (d, s) in derived_key.iter_mut().zip(digest.iter()) {
            *d = *s;
        }
        Ok(MsgKeyRsp {
            status: self.status,
            derived_key,
        })
    }
}
