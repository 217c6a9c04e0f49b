#!/usr/bin/env python3
"""Seed inputs for the fuzz targets from real client traffic.

Reads the tpm2-tools command trace (difftest/traces/tpm2-tools.trace,
`> hex` command and `< hex` response lines, see difftest/src/trace.rs) and
writes candidate seeds to OUT/<target>/ for

  execute, stateful  one recorded command per file, and runs of consecutive
                     commands (so that handles created by one are used by
                     the next);
  roundtrip          the wire structures found in the recorded commands and
                     responses, each prefixed with the selector octet of
                     tests/src/fuzzing.rs (`ROUNDTRIP_TYPES`);
  socket             the commands in the framings of the host simulator's
                     sockets, prefixed with the channel octet of
                     `socket_input` (0 mssim TPM port, 1 mssim platform
                     port, 2 swtpm data channel, 3 swtpm control channel).

The candidates are many; the committed corpora are what
`cargo fuzz cmin` keeps of them (see docs/testing.md, "Fuzzing").

    python3 fuzz/seeds_from_trace.py OUT [TRACE]
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Selectors of tests/src/fuzzing.rs ROUNDTRIP_TYPES (keep in step).
RT = dict(
    TPMT_PUBLIC=0, TPM2B_PUBLIC=1, TPMT_SENSITIVE=2, TPM2B_SENSITIVE=3,
    TPMT_SIGNATURE=4, TPMS_ATTEST=5, TPML_PCR_SELECTION=6, TPMS_CONTEXT=7,
    TPMS_NV_PUBLIC=8, TPM2B_NV_PUBLIC=9, TPML_DIGEST=10,
    TPML_DIGEST_VALUES=11, TPMT_HA=12, TPMT_TK=13, TPMT_PUBLIC_PARMS=14,
    TPMS_PCR_SELECTION=15, TPML_ALG=16, TPML_CC=17, TPMT_SIG_SCHEME=18,
    TPMS_CLOCK_INFO=19, TPM2B_ATTEST=20, TPMT_SYM_DEF=21,
    TPMT_SYM_DEF_OBJECT=22, TPMT_KDF_SCHEME=23, TPMT_KEYEDHASH_SCHEME=24,
)

# Handles in the handle area of the recorded commands (Part 3).
HANDLES = {0x131: 1, 0x153: 1, 0x157: 1, 0x173: 1, 0x167: 0, 0x12A: 1,
           0x169: 1, 0x17E: 0, 0x177: 1, 0x161: 0, 0x162: 1, 0x182: 1,
           0x18A: 0, 0x17D: 0}
# Commands whose response has a handle before the parameters.
R_HANDLE = {0x131, 0x157, 0x167, 0x161, 0x176}


def read_trace(path):
    out, pending = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            b = bytes.fromhex(line[1:])
            if line[0] == ">":
                pending = b
            else:
                out.append((pending, b))
                pending = None
    return out


class R:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("short")
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]

    def tpm2b(self):
        n = self.u16()
        return struct.pack(">H", n) + self.take(n)

    def pcr_sel_list(self):
        start = self.i
        for _ in range(self.u32()):
            self.take(2)
            self.take(self.take(1)[0])
        return self.b[start:self.i]

    def rest(self): return self.b[self.i:]


def cmd_params(c):
    """(cc, parameter reader) of a command."""
    tag, _, cc = struct.unpack(">HII", c[:10])
    r = R(c)
    r.i = 10 + 4 * HANDLES.get(cc, 0)
    if tag == 0x8002:
        r.take(r.u32())
    return cc, r


def rsp_params(cc, rsp):
    tag, _, rc = struct.unpack(">HII", rsp[:10])
    if rc != 0 or len(rsp) <= 10:
        return None
    r = R(rsp)
    r.i = 10 + (4 if cc in R_HANDLE else 0)
    if tag == 0x8002:
        r.u32()
    return r


def structures(trace):
    """(selector name, bytes) of the wire structures in the trace."""
    out = []
    for c, rsp in trace:
        try:
            cc, p = cmd_params(c)
            if cc in (0x131, 0x153):  # CreatePrimary, Create
                p.tpm2b()
                pub = p.tpm2b()
                out += [("TPM2B_PUBLIC", pub), ("TPMT_PUBLIC", pub[2:])]
                p.tpm2b()
                out.append(("TPML_PCR_SELECTION", p.pcr_sel_list()))
            elif cc == 0x157:  # Load
                p.tpm2b()
                pub = p.tpm2b()
                out += [("TPM2B_PUBLIC", pub), ("TPMT_PUBLIC", pub[2:])]
            elif cc == 0x167:  # LoadExternal
                sens = p.tpm2b()
                if len(sens) > 2:
                    out += [("TPM2B_SENSITIVE", sens), ("TPMT_SENSITIVE", sens[2:])]
                pub = p.tpm2b()
                out += [("TPMT_PUBLIC", pub[2:])]
            elif cc == 0x12A:  # NV_DefineSpace
                p.tpm2b()
                nv = p.tpm2b()
                out += [("TPM2B_NV_PUBLIC", nv), ("TPMS_NV_PUBLIC", nv[2:])]
            elif cc == 0x17E:  # PCR_Read
                sel = p.pcr_sel_list()
                out.append(("TPML_PCR_SELECTION", sel))
                if len(sel) > 4:
                    out.append(("TPMS_PCR_SELECTION", sel[4:]))
            elif cc == 0x177:  # VerifySignature
                p.tpm2b()
                out.append(("TPMT_SIGNATURE", p.rest()))
            elif cc == 0x161:  # ContextLoad
                out.append(("TPMS_CONTEXT", p.rest()))
            elif cc == 0x182:  # PCR_Extend
                vals = p.rest()
                out.append(("TPML_DIGEST_VALUES", vals))
                out.append(("TPMT_HA", vals[4:]))
            elif cc == 0x18A:  # TestParms
                out.append(("TPMT_PUBLIC_PARMS", p.rest()))
            r = rsp_params(cc, rsp)
            if r is None:
                continue
            if cc in (0x131, 0x173):  # CreatePrimary, ReadPublic
                pub = r.tpm2b()
                out += [("TPM2B_PUBLIC", pub), ("TPMT_PUBLIC", pub[2:])]
                if cc == 0x131:
                    r.tpm2b()
                    r.tpm2b()
                    out.append(("TPMT_TK", r.rest()))
            elif cc == 0x169:  # NV_ReadPublic
                nv = r.tpm2b()
                out += [("TPM2B_NV_PUBLIC", nv), ("TPMS_NV_PUBLIC", nv[2:])]
            elif cc == 0x162:  # ContextSave
                out.append(("TPMS_CONTEXT", r.rest()))
            elif cc == 0x17E:  # PCR_Read
                r.u32()
                out.append(("TPML_PCR_SELECTION", r.pcr_sel_list()))
                out.append(("TPML_DIGEST", r.rest()))
            elif cc in (0x17D, 0x177):  # Hash, VerifySignature: tickets
                if cc == 0x17D:
                    r.tpm2b()
                out.append(("TPMT_TK", r.rest()))
            elif cc == 0x17A:  # GetCapability
                r.take(1)
                cap = r.u32()
                if cap == 0:  # TPM_CAP_ALGS: TPML_ALG_PROPERTY -> TPML_ALG
                    n = r.u32()
                    algs = [r.take(6)[:2] for _ in range(n)]
                    out.append(("TPML_ALG", struct.pack(">I", n) + b"".join(algs)))
                elif cap == 2:  # TPM_CAP_COMMANDS -> TPML_CC of the codes
                    n = r.u32()
                    ccs = [struct.pack(">I", r.u32() & 0xFFFF) for _ in range(n)]
                    out.append(("TPML_CC", struct.pack(">I", n) + b"".join(ccs)))
                elif cap == 5:  # TPM_CAP_PCRS
                    out.append(("TPML_PCR_SELECTION", r.pcr_sel_list()))
            elif cc == 0x181:  # ReadClock: TPMS_TIME_INFO = time || clockInfo
                out.append(("TPMS_CLOCK_INFO", r.rest()[8:]))
        except (ValueError, struct.error, IndexError):
            continue
    # A quote (TPMS_ATTEST with TPMS_QUOTE_INFO) and a signature over it:
    # no command of the trace returns one.
    sel = bytes.fromhex("00000001000b03030000")
    attest = (struct.pack(">IH", 0xFF544347, 0x8018)
              + struct.pack(">H", 34) + bytes.fromhex("000b") + bytes(32)
              + struct.pack(">H", 4) + b"nonc"
              + struct.pack(">QIIB", 12345, 1, 0, 1) + struct.pack(">Q", 0x20)
              + sel + struct.pack(">H", 32) + bytes(range(32)))
    out.append(("TPMS_ATTEST", attest))
    out.append(("TPM2B_ATTEST", struct.pack(">H", len(attest)) + attest))
    out.append(("TPMT_SIGNATURE", struct.pack(">HHH", 0x18, 0xB, 32) + bytes(32)
                + struct.pack(">H", 32) + bytes(range(32))))
    out.append(("TPMT_SIG_SCHEME", struct.pack(">HH", 0x18, 0xB)))
    out.append(("TPMT_SIG_SCHEME", struct.pack(">H", 0x10)))
    # Algorithm selectors as the templates above use them.
    for name, hexes in (
            ("TPMT_SYM_DEF", ("000600800043", "000a000b", "0010")),
            ("TPMT_SYM_DEF_OBJECT", ("000600800043", "000601000043", "0010")),
            ("TPMT_KDF_SCHEME", ("0007000b", "0020000b", "0010")),
            ("TPMT_KEYEDHASH_SCHEME", ("0005000b", "000a000b0022", "0010"))):
        out += [(name, bytes.fromhex(h)) for h in hexes]
    return out


def write(dirpath, name, data, seen):
    h = hashlib.sha1(data).hexdigest()
    if h in seen:
        return
    seen.add(h)
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, f"{name}-{h[:12]}"), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    trace = read_trace(sys.argv[2] if len(sys.argv) > 2
                       else os.path.join(ROOT, "difftest", "traces", "tpm2-tools.trace"))
    cmds = [c for c, _ in trace]
    for target in ("execute", "stateful"):
        seen = set()
        d = os.path.join(out, target)
        for i, c in enumerate(cmds):
            write(d, f"trace-{i:03}-cc{struct.unpack('>I', c[6:10])[0]:03x}", c, seen)
        for i in range(0, len(cmds), 3):
            write(d, f"trace-run-{i:03}", b"".join(cmds[i:i + 6]), seen)
    seen = set()
    for name, data in structures(trace):
        write(os.path.join(out, "roundtrip"), f"trace-{name}", bytes([RT[name]]) + data, seen)
    seen = set()
    d = os.path.join(out, "socket")
    for i in range(0, len(cmds), 4):
        run = cmds[i:i + 4]
        mssim = b"".join(struct.pack(">IBI", 8, 0, len(c)) + c for c in run)
        write(d, f"trace-mssim-{i:03}", b"\0" + mssim + struct.pack(">I", 20), seen)
        write(d, f"trace-swtpm-data-{i:03}", b"\2" + b"".join(run), seen)
        write(d, f"trace-swtpm-data-mssim-{i:03}", b"\2" + mssim, seen)
    # Handshake, hash sequence, platform signals, control commands.
    write(d, "mssim-handshake-hash", b"\0" + struct.pack(">II", 15, 1)
          + struct.pack(">I", 5) + struct.pack(">II", 6, 4) + b"data" + struct.pack(">II", 7, 21), seen)
    write(d, "mssim-platform", b"\1" + b"".join(struct.pack(">I", s) for s in
                                               (1, 11, 3, 4, 9, 10, 13, 14, 25, 17, 18, 30, 2, 12, 20))
          + struct.pack(">II", 26, 0), seen)
    ctrl = [struct.pack(">I", 1), struct.pack(">II", 2, 0), struct.pack(">I", 3),
            struct.pack(">IB", 4, 3), struct.pack(">I", 5), struct.pack(">II", 6, 4) + b"abcd",
            struct.pack(">I", 7), struct.pack(">IB", 11, 0), struct.pack(">II", 10, 0),
            struct.pack(">III", 12, 0, 1), struct.pack(">IIII", 13, 0, 2, 16) + b"VTPMVOLA" + bytes(8),
            struct.pack(">I", 14), struct.pack(">II", 17, 4096), struct.pack(">IQII", 18, 1, 0, 4096),
            struct.pack(">II", 19, 0)]
    for i, m in enumerate(ctrl):
        write(d, f"swtpm-ctrl-{i:02}", b"\3" + m, seen)
    write(d, "swtpm-ctrl-all", b"\3" + b"".join(ctrl), seen)


if __name__ == "__main__":
    main()
