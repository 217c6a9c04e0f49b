//! Response codes (Part 2, 6.6 `TPM_RC`).
//!
//! A [`Rc`] is the raw 32-bit response code. Format-1 codes carry the number
//! of the handle, parameter or session they concern; that position is attached
//! once, by the code that knows it (the dispatcher for unmarshalling, a
//! handler for its own checks), through [`Rc::param`], [`Rc::handle`] and
//! [`Rc::session`] rather than by integer arithmetic at each call site.

use core::fmt;

/// A TPM response code (`TPM_RC`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rc(pub u32);

/// Result type used throughout the engine.
pub type TpmResult<T> = Result<T, Rc>;

const RC_VER1: u32 = 0x100;
const RC_FMT1: u32 = 0x080;
const RC_WARN: u32 = 0x900;
/// Format-1 modifier: the number refers to a parameter (Part 2, 6.6.3).
const RC_P: u32 = 0x040;
/// Format-1 modifier: the number refers to a session (when no `RC_P`).
const RC_S: u32 = 0x800;

macro_rules! rcs {
    ($($(#[$m:meta])* $name:ident = $val:expr;)*) => {
        impl Rc { $( $(#[$m])* pub const $name: Rc = Rc($val); )* }
        /// Name of a known base code, for logs and test output.
        fn base_name(code: u32) -> Option<&'static str> {
            $( if code == $val { return Some(stringify!($name)); } )*
            None
        }
    };
}

rcs! {
    /// Success.
    SUCCESS = 0x000;
    /// TPM 1.2 style "bad tag", returned for an unknown tag (Part 2, 6.6.3).
    BAD_TAG = 0x01E;
    INITIALIZE = RC_VER1;
    FAILURE = RC_VER1 + 0x001;
    SEQUENCE = RC_VER1 + 0x003;
    PRIVATE = RC_VER1 + 0x00B;
    HMAC = RC_VER1 + 0x019;
    DISABLED = RC_VER1 + 0x020;
    EXCLUSIVE = RC_VER1 + 0x021;
    AUTH_TYPE = RC_VER1 + 0x024;
    AUTH_MISSING = RC_VER1 + 0x025;
    POLICY = RC_VER1 + 0x026;
    PCR = RC_VER1 + 0x027;
    PCR_CHANGED = RC_VER1 + 0x028;
    UPGRADE = RC_VER1 + 0x02D;
    TOO_MANY_CONTEXTS = RC_VER1 + 0x02E;
    AUTH_UNAVAILABLE = RC_VER1 + 0x02F;
    REBOOT = RC_VER1 + 0x030;
    UNBALANCED = RC_VER1 + 0x031;
    COMMAND_SIZE = RC_VER1 + 0x042;
    COMMAND_CODE = RC_VER1 + 0x043;
    AUTHSIZE = RC_VER1 + 0x044;
    AUTH_CONTEXT = RC_VER1 + 0x045;
    NV_RANGE = RC_VER1 + 0x046;
    NV_SIZE = RC_VER1 + 0x047;
    NV_LOCKED = RC_VER1 + 0x048;
    NV_AUTHORIZATION = RC_VER1 + 0x049;
    NV_UNINITIALIZED = RC_VER1 + 0x04A;
    NV_SPACE = RC_VER1 + 0x04B;
    NV_DEFINED = RC_VER1 + 0x04C;
    BAD_CONTEXT = RC_VER1 + 0x050;
    CPHASH = RC_VER1 + 0x051;
    PARENT = RC_VER1 + 0x052;
    NEEDS_TEST = RC_VER1 + 0x053;
    NO_RESULT = RC_VER1 + 0x054;
    SENSITIVE = RC_VER1 + 0x055;
    READ_ONLY = RC_VER1 + 0x056;
    POLICY_DENIED = RC_VER1 + 0x057;
    ASYMMETRIC = RC_FMT1 + 0x001;
    ATTRIBUTES = RC_FMT1 + 0x002;
    HASH = RC_FMT1 + 0x003;
    VALUE = RC_FMT1 + 0x004;
    HIERARCHY = RC_FMT1 + 0x005;
    KEY_SIZE = RC_FMT1 + 0x007;
    MGF = RC_FMT1 + 0x008;
    MODE = RC_FMT1 + 0x009;
    TYPE = RC_FMT1 + 0x00A;
    HANDLE = RC_FMT1 + 0x00B;
    KDF = RC_FMT1 + 0x00C;
    RANGE = RC_FMT1 + 0x00D;
    AUTH_FAIL = RC_FMT1 + 0x00E;
    NONCE = RC_FMT1 + 0x00F;
    PP = RC_FMT1 + 0x010;
    SCHEME = RC_FMT1 + 0x012;
    SIZE = RC_FMT1 + 0x015;
    SYMMETRIC = RC_FMT1 + 0x016;
    TAG = RC_FMT1 + 0x017;
    SELECTOR = RC_FMT1 + 0x018;
    INSUFFICIENT = RC_FMT1 + 0x01A;
    SIGNATURE = RC_FMT1 + 0x01B;
    KEY = RC_FMT1 + 0x01C;
    POLICY_FAIL = RC_FMT1 + 0x01D;
    INTEGRITY = RC_FMT1 + 0x01F;
    TICKET = RC_FMT1 + 0x020;
    RESERVED_BITS = RC_FMT1 + 0x021;
    BAD_AUTH = RC_FMT1 + 0x022;
    EXPIRED = RC_FMT1 + 0x023;
    POLICY_CC = RC_FMT1 + 0x024;
    BINDING = RC_FMT1 + 0x025;
    CURVE = RC_FMT1 + 0x026;
    ECC_POINT = RC_FMT1 + 0x027;
    FW_LIMITED = RC_FMT1 + 0x028;
    SVN_LIMITED = RC_FMT1 + 0x029;
    /// Parameter set not supported (ML-KEM / ML-DSA, Part 2, 11.2.6-11.2.7).
    PARMS = RC_FMT1 + 0x02A;
    /// External-Mu is not supported.
    EXT_MU = RC_FMT1 + 0x02B;
    /// The key cannot sign arbitrarily long messages in a sequence.
    ONE_SHOT_SIGNATURE = RC_FMT1 + 0x02C;
    /// The key finishing a signature sequence is not the one that started it.
    SIGN_CONTEXT_KEY = RC_FMT1 + 0x02D;
    CHANNEL = RC_FMT1 + 0x030;
    CHANNEL_KEY = RC_FMT1 + 0x031;
    CONTEXT_GAP = RC_WARN + 0x001;
    OBJECT_MEMORY = RC_WARN + 0x002;
    SESSION_MEMORY = RC_WARN + 0x003;
    MEMORY = RC_WARN + 0x004;
    SESSION_HANDLES = RC_WARN + 0x005;
    OBJECT_HANDLES = RC_WARN + 0x006;
    LOCALITY = RC_WARN + 0x007;
    YIELDED = RC_WARN + 0x008;
    CANCELED = RC_WARN + 0x009;
    TESTING = RC_WARN + 0x00A;
    REFERENCE_H0 = RC_WARN + 0x010;
    REFERENCE_S0 = RC_WARN + 0x018;
    NV_RATE = RC_WARN + 0x020;
    LOCKOUT = RC_WARN + 0x021;
    RETRY = RC_WARN + 0x022;
    NV_UNAVAILABLE = RC_WARN + 0x023;
}

impl Rc {
    /// True for format-1 codes, which can carry a handle/parameter/session number.
    pub const fn is_fmt1(self) -> bool {
        self.0 & RC_FMT1 != 0
    }

    /// True if a position has already been attached.
    const fn has_position(self) -> bool {
        self.is_fmt1() && self.0 & 0xF40 != 0
    }

    /// The code without its position (format 1) — what the tests compare against.
    pub const fn base(self) -> Rc {
        if self.is_fmt1() {
            Rc(self.0 & 0x0BF)
        } else {
            self
        }
    }

    /// Attach parameter number `n` (1-based, up to 15) to a format-1 code
    /// that has no position yet; anything else is returned unchanged.
    pub const fn param(self, n: u32) -> Rc {
        if self.is_fmt1() && !self.has_position() && n >= 1 && n <= 15 {
            Rc(self.0 | RC_P | (n << 8))
        } else {
            self
        }
    }

    /// Attach handle number `n` (1-based, up to 7).
    pub const fn handle(self, n: u32) -> Rc {
        if self.is_fmt1() && !self.has_position() && n >= 1 && n <= 7 {
            Rc(self.0 | (n << 8))
        } else {
            self
        }
    }

    /// Attach session number `n` (1-based, up to 7).
    pub const fn session(self, n: u32) -> Rc {
        if self.is_fmt1() && !self.has_position() && n >= 1 && n <= 7 {
            Rc(self.0 | RC_S | (n << 8))
        } else {
            self
        }
    }

    /// Warnings: `TPM_RC_REFERENCE_H0 + n` style offsets for handle/session references.
    pub const fn plus(self, n: u32) -> Rc {
        Rc(self.0.wrapping_add(n))
    }
}

impl fmt::Debug for Rc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.base();
        match base_name(base.0) {
            Some(name) if base == *self => write!(f, "TPM_RC_{name}({:#05x})", self.0),
            Some(name) => {
                let (kind, n) = if self.0 & RC_P != 0 {
                    ("P", (self.0 >> 8) & 0xF)
                } else if self.0 & RC_S != 0 {
                    ("S", (self.0 >> 8) & 0x7)
                } else {
                    ("H", (self.0 >> 8) & 0x7)
                };
                write!(f, "TPM_RC_{name}+{kind}{n}({:#05x})", self.0)
            }
            None => write!(f, "TPM_RC({:#x})", self.0),
        }
    }
}

impl fmt::Display for Rc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part2_6_6_startup_value_example() {
        // Part 2 6.6.3: TPM_RC_VALUE on Startup's first parameter is 0x1C4.
        assert_eq!(Rc::VALUE.param(1), Rc(0x1C4));
    }

    #[test]
    fn positions_attach_once() {
        assert_eq!(Rc::SIZE.param(2).param(3), Rc::SIZE.param(2));
        assert_eq!(Rc::HANDLE.handle(1), Rc(0x18B));
        assert_eq!(Rc::AUTH_FAIL.session(1), Rc(0x98E));
        assert_eq!(Rc::INITIALIZE.param(1), Rc::INITIALIZE);
        assert_eq!(Rc::SIZE.param(2).base(), Rc::SIZE);
    }
}
