#!/usr/bin/env python3
"""Write the hand-made seed corpus of the `execute` fuzz target.

Each file is one input of fuzz_targets/execute.rs: one TPM 2.0 command, or
several concatenated (the target splits them by their size fields; see
tests/src/fuzzing.rs). The TPM the target drives has already run
TPM2_Startup(CLEAR). Run from anywhere: python3 fuzz/make_seed_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "execute")

ST_NO_SESSIONS, ST_SESSIONS = 0x8001, 0x8002
RS_PW = 0x40000009
SHA1, SHA256, SHA384, NULL, RSA, ECC, AES, CFB = 0x4, 0xB, 0xC, 0x10, 0x1, 0x23, 0x6, 0x43
RH_OWNER, RH_NULL, RH_PLATFORM = 0x40000001, 0x40000007, 0x4000000C


def u8(v): return struct.pack(">B", v)
def u16(v): return struct.pack(">H", v)
def u32(v): return struct.pack(">I", v)
def b2(data): return u16(len(data)) + data


def cmd(cc, params=b"", handles=(), auth=None, tag=None):
    body = b"".join(u32(h) for h in handles)
    if auth is not None:
        body += u32(len(auth)) + auth
        tag = ST_SESSIONS if tag is None else tag
    body += params
    tag = ST_NO_SESSIONS if tag is None else tag
    return u16(tag) + u32(10 + len(body)) + u32(cc) + body


def pw_session(password=b"", attrs=0x01):
    """TPMS_AUTH_COMMAND for a password session (continueSession set)."""
    return u32(RS_PW) + b2(b"") + u8(attrs) + b2(password)


def pcr_select(*banks):
    """TPML_PCR_SELECTION; banks are (hashAlg, [pcr indices])."""
    out = u32(len(banks))
    for alg, pcrs in banks:
        bits = bytearray(3)
        for p in pcrs:
            bits[p // 8] |= 1 << (p % 8)
        out += u16(alg) + u8(3) + bytes(bits)
    return out


CC = dict(PCR_Allocate=0x12B, PCR_Reset=0x13D, IncrementalSelfTest=0x142,
          SelfTest=0x143, Startup=0x144, Shutdown=0x145, StirRandom=0x146,
          GetCapability=0x17A, GetRandom=0x17B, GetTestResult=0x17C, Hash=0x17D,
          PCR_Read=0x17E, ReadClock=0x181, PCR_Extend=0x182, PCR_Event=0x13C,
          TestParms=0x18A)

seeds = {}

seeds["startup_clear"] = cmd(CC["Startup"], u16(0))
seeds["startup_state"] = cmd(CC["Startup"], u16(1))
seeds["shutdown_clear"] = cmd(CC["Shutdown"], u16(0))
seeds["shutdown_state"] = cmd(CC["Shutdown"], u16(1))
seeds["getrandom_8"] = cmd(CC["GetRandom"], u16(8))
seeds["getrandom_64"] = cmd(CC["GetRandom"], u16(64))
seeds["getrandom_0"] = cmd(CC["GetRandom"], u16(0))
seeds["stirrandom"] = cmd(CC["StirRandom"], b2(b"additional entropy" * 3))
seeds["pcr_read_16"] = cmd(CC["PCR_Read"], pcr_select((SHA1, [16]), (SHA256, [16])))
seeds["pcr_read_all"] = cmd(CC["PCR_Read"], pcr_select(
    (SHA1, range(24)), (SHA256, range(24)), (SHA384, range(24))))
seeds["pcr_read_empty"] = cmd(CC["PCR_Read"], pcr_select())

extend_digests = (u32(2) + u16(SHA1) + bytes(range(20))
                  + u16(SHA256) + bytes(range(32)))
seeds["pcr_extend_pw"] = cmd(CC["PCR_Extend"], extend_digests, handles=[16],
                             auth=pw_session())
seeds["pcr_extend_pw_wrong_password"] = cmd(CC["PCR_Extend"], extend_digests,
                                            handles=[16], auth=pw_session(b"x"))
seeds["pcr_extend_pcr0"] = cmd(CC["PCR_Extend"], extend_digests, handles=[0],
                               auth=pw_session())
seeds["pcr_event_pw"] = cmd(CC["PCR_Event"], b2(b"an event"), handles=[16],
                            auth=pw_session())
seeds["pcr_reset_16_pw"] = cmd(CC["PCR_Reset"], handles=[16], auth=pw_session())
seeds["pcr_reset_0_pw"] = cmd(CC["PCR_Reset"], handles=[0], auth=pw_session())
seeds["pcr_allocate_pw"] = cmd(CC["PCR_Allocate"],
                               pcr_select((SHA1, []), (SHA256, range(24))),
                               handles=[RH_PLATFORM], auth=pw_session())

# GetCapability of each kind: (capability, property, count)
caps = {
    "algs": (0, 1, 64),
    "handles_pcr": (1, 0x00000000, 64),
    "handles_nv": (1, 0x01000000, 64),
    "handles_hmac_sessions": (1, 0x02000000, 64),
    "handles_policy_sessions": (1, 0x03000000, 64),
    "handles_permanent": (1, 0x40000000, 64),
    "handles_transient": (1, 0x80000000, 64),
    "handles_persistent": (1, 0x81000000, 64),
    "commands": (2, 0x11F, 256),
    "pp_commands": (3, 0x11F, 256),
    "audit_commands": (4, 0x11F, 256),
    "pcrs": (5, 0, 1),
    "tpm_properties_fixed": (6, 0x100, 127),
    "tpm_properties_variable": (6, 0x200, 127),
    "pcr_properties": (7, 0, 64),
    "ecc_curves": (8, 0, 64),
    "auth_policies": (9, 0x40000000, 64),
    "act": (0xA, 0x40000110, 16),
    "vendor_property": (0x100, 0, 1),
    "bad_capability": (0xB, 0, 1),
    "huge_count": (6, 0x100, 0xFFFFFFFF),
}
for name, (c, p, n) in caps.items():
    seeds["getcap_" + name] = cmd(CC["GetCapability"], u32(c) + u32(p) + u32(n))

seeds["hash_sha256_owner"] = cmd(CC["Hash"], b2(b"abc") + u16(SHA256) + u32(RH_OWNER))
seeds["hash_sha1_null"] = cmd(CC["Hash"], b2(b"") + u16(SHA1) + u32(RH_NULL))
seeds["hash_generated_value"] = cmd(CC["Hash"], b2(b"\xffTCG" + b"x" * 8)
                                    + u16(SHA256) + u32(RH_OWNER))
seeds["selftest_full"] = cmd(CC["SelfTest"], u8(1))
seeds["selftest_bad_yesno"] = cmd(CC["SelfTest"], u8(2))
seeds["incremental_selftest"] = cmd(CC["IncrementalSelfTest"], u32(2) + u16(SHA256) + u16(AES))
seeds["gettestresult"] = cmd(CC["GetTestResult"])
seeds["readclock"] = cmd(CC["ReadClock"])

rsa_parms = u16(RSA) + u16(NULL) + u16(NULL) + u16(2048) + u32(0)
ecc_parms = u16(ECC) + u16(NULL) + u16(NULL) + u16(3) + u16(NULL)
aes_parms = u16(0x25) + u16(AES) + u16(128) + u16(CFB)
seeds["testparms_rsa2048"] = cmd(CC["TestParms"], rsa_parms)
seeds["testparms_ecc256"] = cmd(CC["TestParms"], ecc_parms)
seeds["testparms_aes128cfb"] = cmd(CC["TestParms"], aes_parms)
seeds["testparms_ecc521"] = cmd(CC["TestParms"], u16(ECC) + u16(NULL) + u16(NULL)
                                + u16(5) + u16(NULL))

# Malformed and truncated variants.
gr = seeds["getrandom_8"]
seeds["trunc_header_only"] = gr[:10]
seeds["trunc_6_bytes"] = gr[:6]
seeds["trunc_one_short"] = gr[:-1]  # size field says 12, 11 bytes present
seeds["trunc_pcr_extend"] = seeds["pcr_extend_pw"][:40]
seeds["trunc_getcap"] = seeds["getcap_commands"][:17]
seeds["bad_tag"] = u16(0x8003) + gr[2:]
seeds["size_too_big"] = gr[:2] + u32(0xFFFFFFFF) + gr[6:]
seeds["size_too_small"] = gr[:2] + u32(8) + gr[6:]
seeds["unknown_command"] = cmd(0x999, u16(8))
seeds["vendor_command"] = cmd(0x20000000)
seeds["sessions_tag_no_auth"] = cmd(CC["GetRandom"], u16(8), tag=ST_SESSIONS)
seeds["auth_size_overflow"] = (cmd(CC["PCR_Reset"], handles=[16], auth=pw_session())[:14]
                               + u32(0xFFFF) + pw_session())
seeds["pcr_read_count_huge"] = cmd(CC["PCR_Read"], u32(0xFFFFFFFF))
seeds["pcr_read_select_size_big"] = cmd(CC["PCR_Read"], u32(1) + u16(SHA256) + u8(0xFF) + b"\xff" * 4)
seeds["trailing_bytes"] = cmd(CC["GetRandom"], u16(8) + b"\x00\x00")

# Sequences (split by the target at command boundaries).
seeds["seq_extend_then_read"] = seeds["pcr_extend_pw"] + seeds["pcr_read_16"]
seeds["seq_shutdown_state_then_read"] = seeds["shutdown_state"] + seeds["pcr_read_16"]
seeds["seq_selftest_result"] = seeds["selftest_full"] + seeds["gettestresult"]
seeds["seq_event_reset_read"] = (seeds["pcr_event_pw"] + seeds["pcr_reset_16_pw"]
                                 + seeds["pcr_read_16"])
seeds["seq_stir_random"] = seeds["stirrandom"] + seeds["getrandom_64"]

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {OUT}")
