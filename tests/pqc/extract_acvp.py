#!/usr/bin/env python3
"""Extract the ML-KEM / ML-DSA known-answer vectors that vtpm-core pins.

Source: NIST ACVP-Server gen-val JSON files ("internalProjection" of
ML-KEM-keyGen-FIPS203, ML-KEM-encapDecap-FIPS203, ML-DSA-keyGen-FIPS204,
and "prompt" + "expectedResults" of ML-DSA-sigGen-FIPS204), release
v1.1.0.43 (ACVP-Server commit 975de31eb83d), as mirrored gzip-compressed
by github.com/paulmillr/acvp-vectors (commit 2e9216ceafb8, directory acvp/).

Usage: extract_acvp.py ACVP_DIR > vtpm-core/tests/data/pqc-acvp.txt
where ACVP_DIR holds the uncompressed files named
<directory>.json (internalProjection) and ML-DSA-sigGen-FIPS204-{prompt,expected}.json.

The output is a plain text file: records separated by blank lines, each
line "field: value" (hex for byte strings).
"""
import json
import sys

d = sys.argv[1]


def load(name):
    with open(f"{d}/{name}.json") as f:
        return json.load(f)


out = []


def rec(kind, **fields):
    out.append([("kind", kind)] + list(fields.items()))


# ML-KEM key generation: (d, z) -> ek.  Two per parameter set.
for g in load("ML-KEM-keyGen-FIPS203")["testGroups"]:
    for t in g["tests"][:2]:
        rec("mlkem-keygen", set=g["parameterSet"], tcId=t["tcId"],
            d=t["d"], z=t["z"], ek=t["ek"])

# ML-KEM encapsulation (ek, m) -> (c, k) and decapsulation (dk, c) -> k,
# including the implicit-rejection cases of the VAL groups.
for g in load("ML-KEM-encapDecap-FIPS203")["testGroups"]:
    if g["function"] == "encapsulation":
        for t in g["tests"][:2]:
            rec("mlkem-encap", set=g["parameterSet"], tcId=t["tcId"],
                ek=t["ek"], m=t["m"], c=t["c"], k=t["k"])
    elif g["function"] == "decapsulation":
        for t in g["tests"][:2]:
            rec("mlkem-decap", set=g["parameterSet"], tcId=t["tcId"],
                dk=t["dk"], c=t["c"], k=t["k"])

# ML-DSA key generation: xi -> pk.  Two per parameter set.
for g in load("ML-DSA-keyGen-FIPS204")["testGroups"]:
    for t in g["tests"][:2]:
        rec("mldsa-keygen", set=g["parameterSet"], tcId=t["tcId"],
            seed=t["seed"], pk=t["pk"])

# ML-DSA signature generation.
prompt = load("ML-DSA-sigGen-FIPS204-prompt")
sigs = {t["tcId"]: t["signature"]
        for g in load("ML-DSA-sigGen-FIPS204-expected")["testGroups"]
        for t in g["tests"]}
HASHES = {"SHA2-256", "SHA2-384", "SHA2-512"}
seen = set()
for g in prompt["testGroups"]:
    ps, det = g["parameterSet"], g["deterministic"]
    rnd = lambda t: t.get("rnd", "00" * 32)
    if g["signatureInterface"] == "internal" and g.get("externalMu"):
        # Sign_internal from an external mu: what TPM2_SignDigest does.
        for t in g["tests"][:1]:
            rec("mldsa-sign-mu", set=ps, tcId=t["tcId"], sk=t["sk"],
                mu=t["mu"], rnd=rnd(t), sig=sigs[t["tcId"]])
    elif g["signatureInterface"] == "external" and g["preHash"] == "pure":
        # The test with the shortest message keeps the file small.
        for t in sorted(g["tests"], key=lambda t: len(t["message"]))[:1]:
            rec("mldsa-sign-pure", set=ps, tcId=t["tcId"], sk=t["sk"],
                message=t["message"], context=t["context"], rnd=rnd(t),
                sig=sigs[t["tcId"]])
    elif g["signatureInterface"] == "external" and g["preHash"] == "preHash":
        # HashML-DSA with a pre-hash this TPM implements: the shortest
        # message per parameter set (this happens to cover SHA-256, -384
        # and -512 once each).
        for t in sorted(g["tests"], key=lambda t: len(t["message"])):
            if t["hashAlg"] in HASHES and (ps, det) not in seen:
                seen.add((ps, det))
                rec("mldsa-sign-prehash", set=ps, tcId=t["tcId"], sk=t["sk"],
                    message=t["message"], context=t["context"],
                    hash=t["hashAlg"], rnd=rnd(t), sig=sigs[t["tcId"]])

print("# ML-KEM / ML-DSA known-answer vectors from NIST ACVP-Server v1.1.0.43")
print("# (975de31eb83d), extracted by tests/pqc/extract_acvp.py; see that file.")
for r in out:
    print()
    for k, v in r:
        print(f"{k}: {v}")
