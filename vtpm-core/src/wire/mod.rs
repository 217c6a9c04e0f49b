//! Part 2 of the Library spec: constants, structures and their strict
//! marshalling.
//!
//! Raw wire values are newtypes with named constants ([`CommandCode`],
//! [`AlgId`], [`Handle`]); validated forms (a hash algorithm the TPM
//! implements, a PCR selection) are separate types whose unmarshal returns
//! the spec's response code.

pub mod cc;
pub mod codec;
pub mod consts;
pub mod der;
pub mod object;
pub mod pqc;
pub mod public;
pub mod rc;
pub mod signature;
pub mod types;

pub use codec::{Marshal, Params, Reader, Unmarshal, Writer};
pub use rc::{Rc, TpmResult};

macro_rules! wire_newtype {
    ($(#[$m:meta])* $name:ident($t:ty)) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
        #[derive(serde::Serialize, serde::Deserialize)]
        pub struct $name(pub $t);
        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> { Ok($name(r.read()?)) }
        }
        impl Marshal for $name {
            fn marshal(&self, w: &mut Writer) { w.write(&self.0) }
        }
    };
}

wire_newtype!(
    /// `TPM_CC`: a command code.
    CommandCode(u32)
);
wire_newtype!(
    /// `TPM_ALG_ID`: an algorithm identifier.
    AlgId(u16)
);
wire_newtype!(
    /// `TPM_HANDLE`: any handle.
    Handle(u32)
);
wire_newtype!(
    /// `TPM_ST`: a structure tag.
    StructTag(u16)
);
wire_newtype!(
    /// `TPM_ECC_CURVE`: an ECC curve identifier.
    EccCurve(u16)
);

impl Handle {
    /// The handle type: its most significant octet (Part 2, 7.2 `TPM_HT`).
    pub const fn ht(self) -> u8 {
        (self.0 >> 24) as u8
    }
}
