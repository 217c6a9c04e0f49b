#!/usr/bin/python3
"""The rarely used commands of Part 3 (v185), end to end through tpm2-tss.

Every command goes through tpm2-tss's ESAPI (Debian's python3-tpm2-pytss)
and a TCTI (mssim or swtpm) to the simulator. For each one the script
checks the exact response code as ESAPI reports it (a TSS2_RC in the TPM
layer, which is the TPM_RC itself) against what the spec asks, and where a
command succeeds, an effect that can be observed from outside (a capability,
a key that changes, a handle that goes away).

Where Part 3 (v185) names the response code, the expectation is Part 3's;
where it names the code but not the handle or parameter it is attached to,
the number is that of the handle/parameter at fault (Part 2, 6.6); where
the TPM may choose (vendor-specific commands, optional features), the
expectation is the answer docs/command-coverage.md documents. The engine-level
counterpart of this test is vtpm-core/tests/rare_commands.rs.

Usage: rare_commands.py mssim|swtpm host=127.0.0.1,port=PORT

Exit status: 0 if every check passed, 1 if one failed, 2 if python3-tpm2-pytss
is missing or the TPM cannot be reached.
"""

import hashlib
import sys
import time

try:
    from tpm2_pytss import (
        ESAPI,
        ESYS_TR,
        TPM2_ALG,
        TPM2_CAP,
        TPM2_CC,
        TPM2_ECC,
        TPM2_PT,
        TPM2_PT_PCR,
        TPM2_SE,
        TPM2_SU,
        TPM2B_DIGEST,
        TPM2B_ECC_POINT,
        TPM2B_NV_PUBLIC,
        TPM2B_PUBLIC,
        TPM2B_SENSITIVE_CREATE,
        TPMA_NV,
        TPMA_OBJECT,
        TPML_ALG,
        TPML_CC,
        TPMS_ECC_POINT,
        TPMS_NV_PUBLIC,
        TPMT_SIGNATURE,
        TPMT_SYM_DEF,
        TSS2_Exception,
    )
    from tpm2_pytss.TCTILdr import TCTILdr
    from tpm2_pytss._libtpm2_pytss import lib
except ImportError as e:  # pragma: no cover - environment check
    print(
        f"python3-tpm2-pytss is required ({e}); install it with "
        "`apt-get install -y python3-tpm2-pytss` (scripts/test.sh does) and run "
        "this script with /usr/bin/python3, where the Debian package lands",
        file=sys.stderr,
    )
    sys.exit(2)

# ------------------------------------------------------------ TPM_RC (Part 2, 6.6)

RC_SUCCESS = 0x000
RC_VER1 = 0x100
RC_FMT1 = 0x080
RC_WARN = 0x900
RC_DISABLED = RC_VER1 + 0x020
RC_AUTH_TYPE = RC_VER1 + 0x024
RC_COMMAND_CODE = RC_VER1 + 0x043
RC_NEEDS_TEST = RC_VER1 + 0x053
RC_TESTING = RC_WARN + 0x00A
RC_ATTRIBUTES = RC_FMT1 + 0x002
RC_VALUE = RC_FMT1 + 0x004
RC_HIERARCHY = RC_FMT1 + 0x005
RC_AUTH_FAIL = RC_FMT1 + 0x00E
RC_PP = RC_FMT1 + 0x010
RC_SCHEME = RC_FMT1 + 0x012
RC_SIZE = RC_FMT1 + 0x015
RC_POLICY_FAIL = RC_FMT1 + 0x01D
RC_CURVE = RC_FMT1 + 0x026
RC_ECC_POINT = RC_FMT1 + 0x027
RC_P = 0x040
RC_S = 0x800


def param(rc, n):
    """A format-one code attached to parameter n."""
    return rc | RC_P | (n << 8)


def handle(rc, n):
    """A format-one code attached to handle n."""
    return rc | (n << 8)


def session(rc, n):
    """A format-one code attached to session n."""
    return rc | RC_S | (n << 8)


# Handles and property tags the script reads (Part 2).
RH_ACT_0 = 0x40000110
TPM_CAP_ACT = 0x0A  # not named by pytss 1.2
TPM_PT_SPLIT_MAX = 0x128
PERM_DISABLE_CLEAR = 1 << 8  # TPMA_PERMANENT.disableClear
SC_PH_ENABLE, SC_SH_ENABLE, SC_EH_ENABLE = 1 << 0, 1 << 1, 1 << 2  # TPMA_STARTUP_CLEAR
ACT_SIGNALED = 1 << 0  # TPMA_ACT.signaled

# ------------------------------------------------------------ curves (FIPS 186-4, D.1.2)

CURVES = {
    TPM2_ECC.NIST_P256: dict(
        p=2**256 - 2**224 + 2**192 + 2**96 - 1,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
        n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    TPM2_ECC.NIST_P384: dict(
        p=2**384 - 2**128 - 2**96 + 2**32 - 1,
        b=0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
        gx=0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
        gy=0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F,
        n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
}


def on_curve(c, x, y):
    p = c["p"]
    return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x - 3 * x + c["b"])) % p == 0


def ec_add(c, P, Q):
    p = c["p"]
    if P is None:
        return Q
    if Q is None:
        return P
    (x1, y1), (x2, y2) = P, Q
    if x1 == x2 and (y1 + y2) % p == 0:
        return None
    if P == Q:
        m = (3 * x1 * x1 - 3) * pow(2 * y1, -1, p) % p
    else:
        m = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (m * m - x1 - x2) % p
    return (x3, (m * (x1 - x3) - y1) % p)


def ec_mul(c, k, P):
    R = None
    while k:
        if k & 1:
            R = ec_add(c, R, P)
        P = ec_add(c, P, P)
        k >>= 1
    return R


# The constants above are checked before use: G on the curve, [n]G = O.
for _c in CURVES.values():
    assert on_curve(_c, _c["gx"], _c["gy"]), "curve constants"
    assert ec_mul(_c, _c["n"], (_c["gx"], _c["gy"])) is None, "curve order"

# ------------------------------------------------------------ checking


class Checks:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed.append(what)
            print(f"FAIL  {what}")
        return cond

    def rc(self, what, expected, fn, *args, **kwargs):
        """Run fn; check that ESAPI reports `expected` (0 = success).
        Returns fn's result on success, None otherwise."""
        try:
            out = fn(*args, **kwargs)
            got = RC_SUCCESS
        except TSS2_Exception as e:
            out, got = None, int(e.rc)
        self.ok(
            got == expected,
            f"{what}: TPM_RC {got:#05x}, expected {expected:#05x}",
        )
        return out


def caps(e, cap, prop, count):
    """All entries of one capability from `prop` on (following moreData)."""
    out = []
    while True:
        more, data = e.get_capability(cap, prop, count)
        d = data._cdata.data
        if cap == TPM2_CAP.COMMANDS:
            items = [d.command.commandAttributes[i] for i in range(d.command.count)]
            nxt = (items[-1] & 0xFFFF) + 1 if items else None
        elif cap == TPM2_CAP.HANDLES:
            items = [d.handles.handle[i] for i in range(d.handles.count)]
            nxt = items[-1] + 1 if items else None
        elif cap in (TPM2_CAP.AUDIT_COMMANDS, TPM2_CAP.PP_COMMANDS):
            items = [d.ppCommands.commandCodes[i] for i in range(d.ppCommands.count)]
            nxt = items[-1] + 1 if items else None
        elif cap == TPM2_CAP.ECC_CURVES:
            items = [d.eccCurves.eccCurves[i] for i in range(d.eccCurves.count)]
            nxt = items[-1] + 1 if items else None
        elif cap == TPM_CAP_ACT:
            a = d.actData
            items = [
                (a.actData[i].handle, a.actData[i].timeout, a.actData[i].attributes)
                for i in range(a.count)
            ]
            nxt = items[-1][0] + 1 if items else None
        else:
            raise ValueError(cap)
        out.extend(items)
        if not more or nxt is None:
            return out
        prop = nxt


def tpm_property(e, pt):
    _, data = e.get_capability(TPM2_CAP.TPM_PROPERTIES, pt, 1)
    props = data._cdata.data.tpmProperties
    if props.count >= 1 and props.tpmProperty[0].property == pt:
        return props.tpmProperty[0].value
    return None


def pcr_group(e, tag):
    """The PCR numbers in the TPMS_TAGGED_PCR_SELECT of `tag`."""
    _, data = e.get_capability(TPM2_CAP.PCR_PROPERTIES, tag, 1)
    props = data._cdata.data.pcrProperties
    if props.count < 1 or props.pcrProperty[0].tag != tag:
        return None
    sel = props.pcrProperty[0]
    return {
        8 * i + b
        for i in range(sel.sizeofSelect)
        for b in range(8)
        if sel.pcrSelect[i] >> b & 1
    }


def ecc_template(scheme_alg, restricted=False):
    """An ECC P-256 signing key with scheme `scheme_alg` (SHA-256)."""
    attrs = (
        TPMA_OBJECT.SIGN_ENCRYPT
        | TPMA_OBJECT.FIXEDTPM
        | TPMA_OBJECT.FIXEDPARENT
        | TPMA_OBJECT.SENSITIVEDATAORIGIN
        | TPMA_OBJECT.USERWITHAUTH
    )
    if restricted:
        attrs |= TPMA_OBJECT.RESTRICTED
    pub = TPM2B_PUBLIC.parse("ecc256", objectAttributes=attrs)
    ecc = pub.publicArea.parameters.eccDetail
    ecc.scheme.scheme = scheme_alg
    if scheme_alg == TPM2_ALG.ECDAA:
        ecc.scheme.details.ecdaa.hashAlg = TPM2_ALG.SHA256
        ecc.scheme.details.ecdaa.count = 0
    elif scheme_alg == TPM2_ALG.ECDSA:
        ecc.scheme.details.ecdsa.hashAlg = TPM2_ALG.SHA256
    return pub


def primary(e, hierarchy, template=None):
    """CreatePrimary of an ECC signing key; returns (handle, (x, y))."""
    tpl = template or ecc_template(TPM2_ALG.ECDSA)
    h, pub, _, _, _ = e.create_primary(TPM2B_SENSITIVE_CREATE(), tpl, hierarchy)
    u = pub.publicArea.unique.ecc
    return h, (bytes(u.x), bytes(u.y))


def point_of(p2b):
    pt = p2b.point
    return bytes(pt.x), bytes(pt.y)


def ecc_point(x, y):
    return TPM2B_ECC_POINT(TPMS_ECC_POINT(x=x, y=y))


# ------------------------------------------------------------ the tests


def self_test(e, t):
    """Part 3, 10.3 and 10.4."""
    out, result = e.get_test_result()
    t.ok(
        int(result) in (RC_SUCCESS, RC_NEEDS_TEST, RC_TESTING),
        f"GetTestResult before SelfTest: testResult {int(result):#x} is SUCCESS, NEEDS_TEST or TESTING",
    )
    t.rc("SelfTest(fullTest = YES)", RC_SUCCESS, e.self_test, True)
    result = None
    for _ in range(100):
        r = t.rc("GetTestResult after SelfTest", RC_SUCCESS, e.get_test_result)
        if r is None:
            break
        result = int(r[1])
        if result != RC_TESTING:
            break
        time.sleep(0.05)
    t.ok(result == RC_SUCCESS, f"testResult after a full SelfTest is TPM_RC_SUCCESS ({result})")
    # Everything was tested by the full test: nothing is left to do.
    todo = t.rc(
        "IncrementalSelfTest(SHA-256, AES, ECC)",
        RC_SUCCESS,
        e.incremental_self_test,
        TPML_ALG([TPM2_ALG.SHA256, TPM2_ALG.AES, TPM2_ALG.ECC]),
    )
    if todo is not None:
        t.ok(len(todo) == 0, f"toDoList after a full SelfTest is empty ({list(todo)})")
    # An empty toTest only reports what is left.
    todo = t.rc("IncrementalSelfTest(empty list)", RC_SUCCESS, e.incremental_self_test, TPML_ALG())
    if todo is not None:
        t.ok(len(todo) == 0, "toDoList for an empty toTest is empty")


def missing_curve(curves):
    for c in (
        TPM2_ECC.NIST_P192,
        TPM2_ECC.NIST_P224,
        TPM2_ECC.NIST_P521,
        TPM2_ECC.BN_P256,
        TPM2_ECC.BN_P638,
        TPM2_ECC.SM2_P256,
    ):
        if c not in curves:
            return c
    raise AssertionError("every curve is implemented")


def ecc_parameters(e, t):
    """Part 3, 14.6: the parameters of each implemented NIST curve are those
    of FIPS 186-4 (sizes may differ: compared as integers); a curve the TPM
    does not list in TPM_CAP_ECC_CURVES is TPM_RC_CURVE on curveID."""
    curves = caps(e, TPM2_CAP.ECC_CURVES, 0, 64)
    t.ok(TPM2_ECC.NIST_P256 in curves, f"TPM_CAP_ECC_CURVES lists NIST P-256 ({curves})")
    for cid, c in CURVES.items():
        if cid not in curves:
            continue
        d = t.rc(f"ECC_Parameters(curve {cid:#x})", RC_SUCCESS, e.ecc_parameters, cid)
        if d is None:
            continue
        num = lambda b: int.from_bytes(bytes(b), "big")  # noqa: E731
        t.ok(
            (d.curveID, num(d.p), num(d.a), num(d.b), num(d.gX), num(d.gY), num(d.n), num(d.h))
            == (cid, c["p"], c["p"] - 3, c["b"], c["gx"], c["gy"], c["n"], 1),
            f"ECC_Parameters(curve {cid:#x}) returns the FIPS 186-4 p, a, b, G, n, h",
        )
    bad = missing_curve(curves)
    t.rc(
        f"ECC_Parameters(curve {bad:#x}, not implemented)",
        param(RC_CURVE, 1),
        e.ecc_parameters,
        bad,
    )
    return curves


def commit_and_ephemeral(e, t, curves):
    """Part 3, 19.2 and 19.3 (algorithm in Part 1, 44.2)."""
    c = CURVES[TPM2_ECC.NIST_P256]
    split_max = tpm_property(e, TPM_PT_SPLIT_MAX)
    t.ok(split_max is not None and split_max > 0, f"TPM_PT_SPLIT_MAX = {split_max}")

    r = t.rc("EC_Ephemeral(P-256)", RC_SUCCESS, e.ec_ephemeral, TPM2_ECC.NIST_P256)
    counter = None
    if r is not None:
        (x, y), counter = point_of(r[0]), r[1]
        t.ok(
            on_curve(c, int.from_bytes(x, "big"), int.from_bytes(y, "big")),
            "EC_Ephemeral: Q = [r]G is on P-256",
        )
        r2 = t.rc("EC_Ephemeral(P-256) again", RC_SUCCESS, e.ec_ephemeral, TPM2_ECC.NIST_P256)
        if r2 is not None:
            t.ok(r2[1] == counter + 1, f"the commit counter increments ({counter} -> {r2[1]})")
            t.ok(point_of(r2[0]) != (x, y), "each ephemeral key is new")
            counter = r2[1]
    bad = missing_curve(curves)
    t.rc(f"EC_Ephemeral(curve {bad:#x}, not implemented)", param(RC_CURVE, 1), e.ec_ephemeral, bad)

    key, _ = primary(e, ESYS_TR.OWNER, ecc_template(TPM2_ALG.ECDAA))
    empty = ecc_point(b"", b"")
    # P1 Empty Point, s2 and y2 Empty Buffers: E = [r]G, K and L empty.
    r = t.rc("Commit(ECDAA key, no P1, no s2)", RC_SUCCESS, e.commit, key, empty, b"", b"")
    if r is not None:
        k, l, ee, cnt = r
        ex, ey = point_of(ee)
        t.ok(point_of(k) == (b"", b"") and point_of(l) == (b"", b""), "Commit: K and L are Empty Points")
        t.ok(
            on_curve(c, int.from_bytes(ex, "big"), int.from_bytes(ey, "big")),
            "Commit: E = [r]G is on P-256",
        )
        if counter is not None:
            t.ok(cnt == counter + 1, f"Commit shares the commit counter with EC_Ephemeral ({counter} -> {cnt})")
        counter = cnt
    # P1 = P2 = (H(s2) mod p, y2): E = [r]P1 equals L = [r]P2 (Part 1, 44.2.3).
    i = 0
    while True:
        s2 = b"s2-" + i.to_bytes(4, "big")
        x2 = int.from_bytes(hashlib.sha256(s2).digest(), "big") % c["p"]
        rhs = (x2**3 - 3 * x2 + c["b"]) % c["p"]
        y2 = pow(rhs, (c["p"] + 1) // 4, c["p"])
        if y2 * y2 % c["p"] == rhs:
            break
        i += 1
    x2b, y2b = x2.to_bytes(32, "big"), y2.to_bytes(32, "big")
    r = t.rc("Commit(ECDAA key, P1 = P2 = (H(s2), y2))", RC_SUCCESS, e.commit, key, ecc_point(x2b, y2b), s2, y2b)
    if r is not None:
        k, l, ee, cnt = r
        kx, ky = point_of(k)
        t.ok(
            on_curve(c, int.from_bytes(kx, "big"), int.from_bytes(ky, "big")),
            "Commit: K = [ds](x2, y2) is on P-256",
        )
        t.ok(point_of(l) == point_of(ee), "Commit: E = [r]P1 equals L = [r]P2 when P1 = P2")
        t.ok(counter is None or cnt == counter + 1, f"Commit counter increments ({counter} -> {cnt})")
    # Step 1: s2 and y2 both empty or both not (TPM_RC_SIZE, on y2).
    t.rc("Commit(s2 empty, y2 not)", param(RC_SIZE, 3), e.commit, key, empty, b"", y2b)
    # Step 5: P1 not on the curve (TPM_RC_ECC_POINT, on P1).
    bad_y = ((y2 + 1) % c["p"]).to_bytes(32, "big")
    t.rc("Commit(P1 off the curve)", param(RC_ECC_POINT, 1), e.commit, key, ecc_point(x2b, bad_y), b"", b"")
    # Step 4: (H(s2) mod p, y2) not on the curve (TPM_RC_ECC_POINT, on s2).
    t.rc("Commit((H(s2), y2) off the curve)", param(RC_ECC_POINT, 2), e.commit, key, empty, s2, bad_y)
    # The scheme must be anonymous (TPM_RC_SCHEME, on signHandle).
    ecdsa, _ = primary(e, ESYS_TR.OWNER)
    t.rc("Commit(ECDSA key)", handle(RC_SCHEME, 1), e.commit, ecdsa, empty, b"", b"")
    e.flush_context(ecdsa)
    e.flush_context(key)


def audit(e, t):
    """Part 3, 21.2: the list of audited commands, read back with
    TPM_CAP_AUDIT_COMMANDS."""
    cc = TPM2_CC.GetRandom
    audited = lambda: caps(e, TPM2_CAP.AUDIT_COMMANDS, 0, 256)  # noqa: E731
    t.ok(cc not in audited(), "GetRandom is not audited at first")
    t.rc(
        "SetCommandCodeAuditStatus(owner, NULL, set GetRandom)",
        RC_SUCCESS,
        e.set_command_code_audit_status,
        TPM2_ALG.NULL,
        TPML_CC([cc]),
        TPML_CC(),
        ESYS_TR.OWNER,
    )
    t.ok(cc in audited(), "TPM_CAP_AUDIT_COMMANDS lists GetRandom after setList")
    # A command in both lists is not audited (setList first).
    t.rc(
        "SetCommandCodeAuditStatus(platform, set and clear Hash)",
        RC_SUCCESS,
        e.set_command_code_audit_status,
        TPM2_ALG.NULL,
        TPML_CC([TPM2_CC.Hash]),
        TPML_CC([TPM2_CC.Hash]),
        ESYS_TR.PLATFORM,
    )
    t.ok(TPM2_CC.Hash not in audited(), "a command in setList and clearList is not audited")
    # SetCommandCodeAuditStatus in clearList is ignored.
    before = TPM2_CC.SetCommandCodeAuditStatus in audited()
    t.rc(
        "SetCommandCodeAuditStatus(clear GetRandom and itself)",
        RC_SUCCESS,
        e.set_command_code_audit_status,
        TPM2_ALG.NULL,
        TPML_CC(),
        TPML_CC([cc, TPM2_CC.SetCommandCodeAuditStatus]),
        ESYS_TR.OWNER,
    )
    after = audited()
    t.ok(cc not in after, "TPM_CAP_AUDIT_COMMANDS no longer lists GetRandom after clearList")
    t.ok(
        (TPM2_CC.SetCommandCodeAuditStatus in after) == before,
        "SetCommandCodeAuditStatus in clearList is ignored",
    )
    # A new algorithm with empty lists: changed (and the digest cleared).
    t.rc(
        "SetCommandCodeAuditStatus(SHA-384, empty lists)",
        RC_SUCCESS,
        e.set_command_code_audit_status,
        TPM2_ALG.SHA384,
        TPML_CC(),
        TPML_CC(),
        ESYS_TR.OWNER,
    )
    key, _ = primary(e, ESYS_TR.ENDORSEMENT)
    r = t.rc(
        "GetCommandAuditDigest after the algorithm change",
        RC_SUCCESS,
        e.get_command_audit_digest,
        key,
        b"",
        privacy_handle=ESYS_TR.ENDORSEMENT,
    )
    if r is not None:
        from tpm2_pytss import TPMS_ATTEST

        att, _ = TPMS_ATTEST.unmarshal(bytes(r[0]))
        info = att.attested.commandAudit
        t.ok(info.digestAlg == TPM2_ALG.SHA384, f"the audit digest algorithm is SHA-384 ({info.digestAlg})")
    e.flush_context(key)
    t.rc(
        "SetCommandCodeAuditStatus(SHA-256, empty lists)",
        RC_SUCCESS,
        e.set_command_code_audit_status,
        TPM2_ALG.SHA256,
        TPML_CC(),
        TPML_CC(),
        ESYS_TR.OWNER,
    )


def pcr_groups(e, t):
    """Part 3, 22.6 and 22.7: a PCR outside every policy (authorization)
    group is TPM_RC_VALUE; the groups are TPM_PT_PCR_POLICY and
    TPM_PT_PCR_AUTH of TPM_CAP_PCR_PROPERTIES."""
    policy = pcr_group(e, TPM2_PT_PCR.POLICY)
    auth = pcr_group(e, TPM2_PT_PCR.AUTH)
    t.ok(policy is not None and auth is not None, f"TPM_PT_PCR_POLICY {policy}, TPM_PT_PCR_AUTH {auth}")
    policy, auth = policy or set(), auth or set()
    digest = hashlib.sha256(b"pcr policy").digest()
    for pcr in (0, 16, 23):
        t.rc(
            f"PCR_SetAuthPolicy(PCR {pcr})",
            RC_SUCCESS if pcr in policy else param(RC_VALUE, 3),
            e.pcr_set_auth_policy,
            digest,
            TPM2_ALG.SHA256,
            ESYS_TR.PCR0 + pcr,
        )
        # The handle is the PCR itself; Part 3 gives a bare TPM_RC_VALUE.
        t.rc(
            f"PCR_SetAuthValue(PCR {pcr})",
            RC_SUCCESS if pcr in auth else RC_VALUE,
            e.pcr_set_auth_value,
            ESYS_TR.PCR0 + pcr,
            b"new auth",
        )
    # authPolicy must be a digest of hashAlg (TPM_RC_SIZE).
    t.rc(
        "PCR_SetAuthPolicy(20-byte policy, SHA-256)",
        param(RC_SIZE, 1),
        e.pcr_set_auth_policy,
        digest[:20],
        TPM2_ALG.SHA256,
        ESYS_TR.PCR16,
    )
    t.rc(
        "PCR_SetAuthPolicy(32-byte policy, TPM_ALG_NULL)",
        param(RC_SIZE, 1),
        e.pcr_set_auth_policy,
        digest,
        TPM2_ALG.NULL,
        ESYS_TR.PCR16,
    )


def platform_commands(e, t):
    """Part 3, 26 and 27: physical presence, algorithm sets, field upgrade."""
    pp = caps(e, TPM2_CAP.PP_COMMANDS, 0, 256)
    t.ok(TPM2_CC.PP_Commands in pp, f"TPM_CAP_PP_COMMANDS lists PP_Commands ({pp})")
    # PP_Commands always requires Physical Presence, never asserted here.
    t.rc(
        "PP_Commands(platform, set Clear)",
        RC_PP,
        e.pp_commands,
        TPML_CC([TPM2_CC.Clear]),
        TPML_CC(),
        session1=ESYS_TR.PASSWORD,
    )
    t.ok(TPM2_CC.Clear not in caps(e, TPM2_CAP.PP_COMMANDS, 0, 256), "PP_Commands changed nothing")
    # Algorithm set 0 is the only one (docs/command-coverage.md).
    t.rc("SetAlgorithmSet(0)", RC_SUCCESS, e.set_algorithm_set, 0)
    t.ok(tpm_property(e, TPM2_PT.ALGORITHM_SET) == 0, "TPM_PT_ALGORITHM_SET is 0")
    t.rc("SetAlgorithmSet(1)", param(RC_VALUE, 1), e.set_algorithm_set, 1)
    t.ok(tpm_property(e, TPM2_PT.ALGORITHM_SET) == 0, "TPM_PT_ALGORITHM_SET is still 0")
    # No field upgrade: the commands are not in TPM_CAP_COMMANDS, and a
    # command the TPM does not implement is TPM_RC_COMMAND_CODE.
    listed = {a & 0xFFFF for a in caps(e, TPM2_CAP.COMMANDS, TPM2_CC.FIRST, 256)}
    for name, code in (
        ("FieldUpgradeStart", TPM2_CC.FieldUpgradeStart),
        ("FieldUpgradeData", TPM2_CC.FieldUpgradeData),
        ("FirmwareRead", TPM2_CC.FirmwareRead),
    ):
        t.ok(code not in listed, f"TPM_CAP_COMMANDS does not list {name}")
    key, _ = primary(e, ESYS_TR.OWNER)
    sig = TPMT_SIGNATURE(sigAlg=TPM2_ALG.ECDSA)
    sig.signature.ecdsa.hash = TPM2_ALG.SHA256
    sig.signature.ecdsa.signatureR = b"\x01" * 32
    sig.signature.ecdsa.signatureS = b"\x01" * 32
    t.rc(
        "FieldUpgradeStart",
        RC_COMMAND_CODE,
        e.field_upgrade_start,
        key,
        hashlib.sha256(b"manifest").digest(),
        sig,
    )
    e.flush_context(key)
    t.rc("FieldUpgradeData", RC_COMMAND_CODE, e.field_upgrade_data, b"firmware block")
    t.rc("FirmwareRead(0)", RC_COMMAND_CODE, e.firmware_read, 0)
    # Vendor_TCG_Test: listed (with the V bit); vtpm echoes inputData
    # (vtpm-core/tests/rare_commands.rs).
    all_cmds = caps(e, TPM2_CAP.COMMANDS, TPM2_CC.FIRST, 256)
    all_cmds += caps(e, TPM2_CAP.COMMANDS, 0x20000000, 256)
    t.ok(
        any(a >> 29 & 1 and a & 0xFFFF == 0 for a in all_cmds),
        "TPM_CAP_COMMANDS lists Vendor_TCG_Test (V bit, index 0)",
    )
    out = t.rc("Vendor_TCG_Test", RC_SUCCESS, e.vendor_tcg_test, b"ping")
    if out is not None:
        t.ok(bytes(out) == b"ping", f"Vendor_TCG_Test returns inputData ({bytes(out)!r})")


def act_set_timeout(e, t, esys_act, timeout):
    """TPM2_ACT_SetTimeout through Esys_ACT_SetTimeout (pytss 1.2 has no
    wrapper; the ESAPI function is called through pytss's cffi binding)."""
    rc = lib.Esys_ACT_SetTimeout(e._ctx, esys_act, ESYS_TR.PASSWORD, ESYS_TR.NONE, ESYS_TR.NONE, timeout)
    if rc != 0:
        raise TSS2_Exception(rc)


def act(e, t):
    """Part 3, 33.2: the four timeout/startTimeout cases, read back with
    TPM_CAP_ACT; only the ACT handles the TPM lists exist."""
    acts = [h for h in caps(e, TPM2_CAP.HANDLES, RH_ACT_0, 16) if RH_ACT_0 <= h <= RH_ACT_0 + 15]
    t.ok(RH_ACT_0 in acts, f"TPM_CAP_HANDLES lists the ACT handles {[hex(h) for h in acts]}")

    def data(h):
        d = [x for x in caps(e, TPM_CAP_ACT, h, 1) if x[0] == h]
        return d[0][1:] if d else None

    first = lib.ESYS_TR_RH_ACT_FIRST
    t.ok(data(RH_ACT_0) == (0, 0), f"ACT_0 is stopped, not signaled ({data(RH_ACT_0)})")
    t.rc("ACT_SetTimeout(ACT_0, 100)", RC_SUCCESS, act_set_timeout, e, t, first, 100)
    d = data(RH_ACT_0)
    t.ok(d is not None and 98 <= d[0] <= 100 and not d[1] & ACT_SIGNALED, f"ACT_0 counts down from 100 ({d})")
    # Case 4: non-zero timeout, startTimeout 0: signaled SET.
    t.rc("ACT_SetTimeout(ACT_0, 0) while counting", RC_SUCCESS, act_set_timeout, e, t, first, 0)
    d = data(RH_ACT_0)
    t.ok(d is not None and d[0] == 0 and d[1] & ACT_SIGNALED, f"ACT_0 expired and signaled ({d})")
    # Case 3: zero timeout, startTimeout 0: signaled unchanged.
    t.rc("ACT_SetTimeout(ACT_0, 0) while expired", RC_SUCCESS, act_set_timeout, e, t, first, 0)
    d = data(RH_ACT_0)
    t.ok(d is not None and d[0] == 0 and d[1] & ACT_SIGNALED, f"ACT_0 still signaled ({d})")
    # FFFFFFFF while signaled: clears signaled and stops.
    t.rc("ACT_SetTimeout(ACT_0, FFFFFFFF) while signaled", RC_SUCCESS, act_set_timeout, e, t, first, 0xFFFFFFFF)
    d = data(RH_ACT_0)
    t.ok(d == (0, 0), f"ACT_0 stopped and not signaled ({d})")
    # Case 1: zero timeout, non-zero startTimeout: counting, signaled CLEAR.
    t.rc("ACT_SetTimeout(ACT_0, 7)", RC_SUCCESS, act_set_timeout, e, t, first, 7)
    d = data(RH_ACT_0)
    t.ok(d is not None and 5 <= d[0] <= 7 and not d[1] & ACT_SIGNALED, f"ACT_0 counts down from 7 ({d})")
    # An ACT the TPM does not have: TPMI_RH_ACT is TPM_RC_VALUE (on the handle).
    missing = next(i for i in range(16) if RH_ACT_0 + i not in acts)
    t.rc(
        f"ACT_SetTimeout(ACT_{missing:X}, not implemented)",
        handle(RC_VALUE, 1),
        act_set_timeout,
        e,
        t,
        first + missing,
        1,
    )


def nv_undefine_space_special(e, t):
    """Part 3, 31.4 and 31.5: a platform index with TPMA_NV_POLICY_DELETE is
    deleted only by NV_UndefineSpaceSpecial, with its policy satisfied."""
    sym = TPMT_SYM_DEF(algorithm=TPM2_ALG.NULL)
    trial = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.TRIAL, sym, TPM2_ALG.SHA256)
    e.policy_command_code(trial, TPM2_CC.NV_UndefineSpaceSpecial)
    policy = e.policy_get_digest(trial)
    e.flush_context(trial)

    def define(index, attrs, auth_handle):
        pub = TPM2B_NV_PUBLIC(
            nvPublic=TPMS_NV_PUBLIC(
                nvIndex=index,
                nameAlg=TPM2_ALG.SHA256,
                attributes=attrs,
                authPolicy=policy,
                dataSize=8,
            )
        )
        return e.nv_define_space(b"", pub, auth_handle)

    def nv_listed(index):
        return index in caps(e, TPM2_CAP.HANDLES, 0x01000000, 256)

    def policy_session(cc):
        s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY, sym, TPM2_ALG.SHA256)
        e.policy_command_code(s, cc)
        return s

    p_index, o_index = 0x01500020, 0x01500021
    base = TPMA_NV.AUTHREAD | TPMA_NV.AUTHWRITE | TPMA_NV.NO_DA
    pnv = t.rc(
        "NV_DefineSpace(platform, POLICY_DELETE)",
        RC_SUCCESS,
        define,
        p_index,
        base | TPMA_NV.PPREAD | TPMA_NV.PPWRITE | TPMA_NV.PLATFORMCREATE | TPMA_NV.POLICY_DELETE,
        ESYS_TR.PLATFORM,
    )
    onv = t.rc("NV_DefineSpace(owner)", RC_SUCCESS, define, o_index, base | TPMA_NV.OWNERREAD, ESYS_TR.OWNER)
    if pnv is None or onv is None:
        return
    # NV_UndefineSpace refuses a POLICY_DELETE index (TPM_RC_ATTRIBUTES, on nvIndex).
    t.rc(
        "NV_UndefineSpace(platform, POLICY_DELETE index)",
        handle(RC_ATTRIBUTES, 2),
        e.nv_undefine_space,
        pnv,
        ESYS_TR.PLATFORM,
    )
    # The index's policy must be satisfied: a policy session whose
    # policyDigest is not authPolicy fails the policy check, TPM_RC_POLICY_FAIL
    # ("a policy check failed", Part 2, 6.6.3),
    # on the session.
    s = e.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY, sym, TPM2_ALG.SHA256)
    t.rc(
        "NV_UndefineSpaceSpecial with an empty policy",
        session(RC_POLICY_FAIL, 1),
        e.nv_undefine_space_special,
        pnv,
        s,
    )
    e.flush_context(s)
    # An index without PLATFORMCREATE and POLICY_DELETE: TPM_RC_ATTRIBUTES.
    s = policy_session(TPM2_CC.NV_UndefineSpaceSpecial)
    t.rc(
        "NV_UndefineSpaceSpecial(owner index)",
        handle(RC_ATTRIBUTES, 1),
        e.nv_undefine_space_special,
        onv,
        s,
    )
    e.flush_context(s)
    t.ok(nv_listed(p_index) and nv_listed(o_index), "both indices are still defined")
    s = policy_session(TPM2_CC.NV_UndefineSpaceSpecial)
    t.rc("NV_UndefineSpaceSpecial(platform index, its policy)", RC_SUCCESS, e.nv_undefine_space_special, pnv, s)
    t.ok(not nv_listed(p_index), "the POLICY_DELETE index is gone from TPM_CAP_HANDLES")
    t.rc("NV_UndefineSpace(owner index)", RC_SUCCESS, e.nv_undefine_space, onv, ESYS_TR.OWNER)


def change_seeds(e, t):
    """Part 3, 24.4 and 24.5: a new seed gives new primary keys, flushes the
    hierarchy's objects; ChangeEPS also resets endorsementAuth."""
    for name, hierarchy, fn in (
        ("ChangePPS", ESYS_TR.PLATFORM, e.change_pps),
        ("ChangeEPS", ESYS_TR.ENDORSEMENT, e.change_eps),
    ):
        h1, q1 = primary(e, hierarchy)
        h2, q2 = primary(e, hierarchy)
        t.ok(q1 == q2, f"{name}: a primary key is a function of the seed (same key twice)")
        e.flush_context(h2)
        tpm_h1 = e.tr_get_tpm_handle(h1)
        if name == "ChangeEPS":
            e.hierarchy_change_auth(ESYS_TR.ENDORSEMENT, b"endorsement secret")
        t.rc(name, RC_SUCCESS, fn)
        t.ok(
            tpm_h1 not in caps(e, TPM2_CAP.HANDLES, 0x80000000, 256),
            f"{name}: the hierarchy's transient objects are flushed",
        )
        e.tr_close(h1)
        # After ChangeEPS the endorsementAuth is the Empty Buffer again
        # (ESAPI still holds the old one for the handle).
        e.tr_set_auth(hierarchy, b"")
        h3, q3 = primary(e, hierarchy)
        t.ok(q3 != q1, f"{name}: the primary key from the same template is new")
        e.flush_context(h3)


def clear_control(e, t):
    """Part 3, 24.6 and 24.7."""

    def disable_clear():
        return bool(tpm_property(e, TPM2_PT.PERMANENT) & PERM_DISABLE_CLEAR)

    t.ok(not disable_clear(), "disableClear is CLEAR at first")
    t.rc("ClearControl(lockout, YES)", RC_SUCCESS, e.clear_control, ESYS_TR.LOCKOUT, True)
    t.ok(disable_clear(), "TPMA_PERMANENT.disableClear is SET")
    t.rc("Clear(lockout) while disabled", RC_DISABLED, e.clear, ESYS_TR.LOCKOUT)
    t.rc("Clear(platform) while disabled", RC_DISABLED, e.clear, ESYS_TR.PLATFORM)
    # Lockout Authorization may SET disableClear but not CLEAR it.
    t.rc("ClearControl(lockout, NO)", RC_AUTH_FAIL, e.clear_control, ESYS_TR.LOCKOUT, False)
    t.ok(disable_clear(), "disableClear is still SET")
    t.rc("ClearControl(platform, NO)", RC_SUCCESS, e.clear_control, ESYS_TR.PLATFORM, False)
    t.ok(not disable_clear(), "TPMA_PERMANENT.disableClear is CLEAR")
    h, q1 = primary(e, ESYS_TR.OWNER)
    e.flush_context(h)
    t.rc("Clear(platform)", RC_SUCCESS, e.clear, ESYS_TR.PLATFORM)
    h, q2 = primary(e, ESYS_TR.OWNER)
    e.flush_context(h)
    t.ok(q1 != q2, "Clear gave the storage hierarchy a new seed")


def hierarchy_control(e, t):
    """Part 3, 24.2: who may CLEAR and SET which enable."""

    def enables():
        return tpm_property(e, TPM2_PT.STARTUP_CLEAR)

    sc = enables()
    t.ok(sc & (SC_PH_ENABLE | SC_SH_ENABLE | SC_EH_ENABLE) == 7, f"phEnable, shEnable, ehEnable SET ({sc:#x})")
    t.rc("HierarchyControl(owner, shEnable, NO)", RC_SUCCESS, e.hierarchy_control, ESYS_TR.OWNER, ESYS_TR.OWNER, False)
    t.ok(not enables() & SC_SH_ENABLE, "shEnable is CLEAR")
    t.rc(
        "CreatePrimary(owner) while shEnable is CLEAR",
        handle(RC_HIERARCHY, 1),
        primary,
        e,
        ESYS_TR.OWNER,
    )
    # The endorsement hierarchy may not SET shEnable.
    t.rc(
        "HierarchyControl(endorsement, shEnable, YES)",
        RC_AUTH_TYPE,
        e.hierarchy_control,
        ESYS_TR.ENDORSEMENT,
        ESYS_TR.OWNER,
        True,
    )
    t.rc(
        "HierarchyControl(endorsement, ehEnable, NO)",
        RC_SUCCESS,
        e.hierarchy_control,
        ESYS_TR.ENDORSEMENT,
        ESYS_TR.ENDORSEMENT,
        False,
    )
    t.ok(not enables() & SC_EH_ENABLE, "ehEnable is CLEAR")
    for name, which, bit in (("shEnable", ESYS_TR.OWNER, SC_SH_ENABLE), ("ehEnable", ESYS_TR.ENDORSEMENT, SC_EH_ENABLE)):
        t.rc(f"HierarchyControl(platform, {name}, YES)", RC_SUCCESS, e.hierarchy_control, ESYS_TR.PLATFORM, which, True)
        t.ok(enables() & bit, f"{name} is SET again")
    h = t.rc("CreatePrimary(owner) after shEnable is SET", RC_SUCCESS, primary, e, ESYS_TR.OWNER)
    if h is not None:
        e.flush_context(h[0])


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("mssim", "swtpm"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        tcti = TCTILdr(sys.argv[1], sys.argv[2])
        e = ESAPI(tcti)
    except Exception as ex:  # noqa: BLE001
        print(f"cannot open the TCTI {sys.argv[1]}:{sys.argv[2]}: {ex}", file=sys.stderr)
        return 2
    t = Checks()
    t.rc("Startup(CLEAR)", RC_SUCCESS, e.startup, TPM2_SU.CLEAR)
    for step in (
        self_test,
        lambda e, t: commit_and_ephemeral(e, t, ecc_parameters(e, t)),
        audit,
        pcr_groups,
        platform_commands,
        act,
        nv_undefine_space_special,
        change_seeds,
        clear_control,
        hierarchy_control,
    ):
        try:
            step(e, t)
        except Exception as ex:  # an unexpected failure ends the step, not the run
            import traceback

            traceback.print_exc()
            t.ok(False, f"{getattr(step, '__name__', step)} raised {ex!r}")
    e.close()
    print(f"\n{t.passed} checks passed, {len(t.failed)} failed")
    for f in t.failed:
        print(f"  FAILED: {f}")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
