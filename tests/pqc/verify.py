#!/usr/bin/env python3
"""Independent checks of the TPM's ML-KEM and ML-DSA outputs.

Used by vtpm-core/tests/pqc.rs (test `independent_python_implementation_agrees`):
the Rust test drives the TPM, writes what it produced to a request file,
and runs

    python3 tests/pqc/verify.py REQUEST RESPONSE

The implementations are the pure-Python FIPS 203 / FIPS 204 ones from PyPI,
`kyber-py` (ML_KEM_512/768/1024) and `dilithium-py` (ML_DSA_44/65/87),
which share no code with the RustCrypto crates the TPM uses. Install them
with

    python3 -m pip install kyber-py==1.2.0 dilithium-py==1.5.1

If they are missing this script FAILS (exit status 2): it never skips.

REQUEST is a text file of records separated by blank lines; each record is
"field: value" lines (byte strings in hex), with an "op" field:

  mldsa-verify       set pk msg ctx sig         pure ML-DSA.Verify (Alg. 3)
  hashmldsa-verify   set pk msg ctx hash sig    HashML-DSA.Verify (Alg. 5),
                                                 hash = SHA256/SHA384/SHA512
  mldsa-keygen       set seed pk                ML-DSA.KeyGen_internal(xi)
  mldsa-sign         id set seed msg ctx        sign (hedged) with the key of
                                                 seed; writes "<id>.pk", "<id>.sig"
  mldsa-sign-det     id set seed msg ctx        deterministic variant; writes
                                                 "<id>.sig"
  mlkem-keygen       set seed ek                ML-KEM.KeyGen_internal(d, z)
  mlkem-decaps       set seed ct ss             the seed's key decapsulates ct to ss
  mlkem-encaps       id set ek                  encapsulate to ek; writes
                                                 "<id>.ct", "<id>.ss"

RESPONSE receives "name: hex" lines for the producing ops. The exit status
is 0 only if every check passed.
"""
import hashlib
import sys

try:
    from kyber_py.ml_kem import ML_KEM_512, ML_KEM_768, ML_KEM_1024
    from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
except ImportError as e:  # never skip: a missing checker is a failure
    print(f"FAIL: independent ML-KEM/ML-DSA implementation missing ({e}); "
          "install with: python3 -m pip install kyber-py==1.2.0 dilithium-py==1.5.1",
          file=sys.stderr)
    sys.exit(2)

KEM = {"ML-KEM-512": ML_KEM_512, "ML-KEM-768": ML_KEM_768, "ML-KEM-1024": ML_KEM_1024}
DSA = {"ML-DSA-44": ML_DSA_44, "ML-DSA-65": ML_DSA_65, "ML-DSA-87": ML_DSA_87}

# FIPS 204, Algorithm 4: DER encodings of the hash OIDs (NIST arc 2.16.840.1.101.3.4.2.x).
PREHASH = {
    "SHA256": (hashlib.sha256, bytes.fromhex("0609608648016503040201")),
    "SHA384": (hashlib.sha384, bytes.fromhex("0609608648016503040202")),
    "SHA512": (hashlib.sha512, bytes.fromhex("0609608648016503040203")),
}


def records(path):
    with open(path) as f:
        text = f.read()
    for block in text.split("\n\n"):
        rec = {}
        for line in block.strip().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, _, v = line.partition(": ")
            rec[k.strip()] = v.strip()
        if rec:
            yield rec


def h(rec, k):
    return bytes.fromhex(rec.get(k, ""))


def main():
    req, rsp = sys.argv[1], sys.argv[2]
    out = []
    failures = 0
    checks = 0
    for n, r in enumerate(records(req)):
        op = r["op"]
        label = f"#{n} {op} {r.get('set', '')} {r.get('id', '')}".strip()
        ok = True
        if op == "mldsa-verify":
            ok = DSA[r["set"]].verify(h(r, "pk"), h(r, "msg"), h(r, "sig"), ctx=h(r, "ctx"))
        elif op == "hashmldsa-verify":
            fn, oid = PREHASH[r["hash"]]
            ctx = h(r, "ctx")
            m_prime = bytes([1, len(ctx)]) + ctx + oid + fn(h(r, "msg")).digest()
            ok = DSA[r["set"]]._verify_internal(h(r, "pk"), m_prime, h(r, "sig"))
        elif op == "mldsa-keygen":
            pk, _ = DSA[r["set"]].key_derive(h(r, "seed"))
            ok = pk == h(r, "pk")
        elif op in ("mldsa-sign", "mldsa-sign-det"):
            pk, sk = DSA[r["set"]].key_derive(h(r, "seed"))
            sig = DSA[r["set"]].sign(sk, h(r, "msg"), ctx=h(r, "ctx"),
                                     deterministic=(op == "mldsa-sign-det"))
            out.append((r["id"] + ".pk", pk))
            out.append((r["id"] + ".sig", sig))
        elif op == "mlkem-keygen":
            ek, _ = KEM[r["set"]].key_derive(h(r, "seed"))
            ok = ek == h(r, "ek")
        elif op == "mlkem-decaps":
            _, dk = KEM[r["set"]].key_derive(h(r, "seed"))
            ok = KEM[r["set"]].decaps(dk, h(r, "ct")) == h(r, "ss")
        elif op == "mlkem-encaps":
            ss, ct = KEM[r["set"]].encaps(h(r, "ek"))
            out.append((r["id"] + ".ct", ct))
            out.append((r["id"] + ".ss", ss))
        else:
            print(f"FAIL {label}: unknown op", file=sys.stderr)
            ok = False
        checks += 1
        if not ok:
            failures += 1
            print(f"FAIL {label}", file=sys.stderr)
        else:
            print(f"ok   {label}")
    with open(rsp, "w") as f:
        for k, v in out:
            f.write(f"{k}: {v.hex()}\n")
    print(f"{checks - failures}/{checks} checks passed")
    if checks == 0:
        print("FAIL: no checks", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
