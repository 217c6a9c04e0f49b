//! Differential tests: the same commands to vtpm (in process) and to
//! libtpms (swtpm's engine, in process); response codes and every
//! deterministic output compared. Each test fails on a difference that
//! `vtpm_difftest::allowed::ALLOWED` does not explain (README.md lists
//! them). Run with `--nocapture` to see every difference and the counts.

use vtpm_difftest::caps::{self, cap};
use vtpm_difftest::keys;
use vtpm_difftest::names::{alg_name, cc_name};
use vtpm_difftest::tpm::*;
use vtpm_difftest::wire::*;
use vtpm_difftest::{Both, Pair};

// ---------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------

#[test]
fn capability_tpm_properties() {
    let mut p = Pair::new("capability_tpm_properties");
    let mut n = 0;
    for (group, first, last) in [("fixed", 0x100, 0x1FF), ("variable", 0x200, 0x2FF)] {
        let (a, b) = caps::read_all(
            &mut p,
            &format!("GetCapability(TPM_PROPERTIES {group})"),
            cap::TPM_PROPERTIES,
            first,
            last,
            caps::tagged_property,
        );
        n += caps::compare_maps(&mut p, &a, &b, &|k| {
            format!("property {}", caps::pt_name(k))
        });
    }
    // After an orderly shutdown and a restart, TPM_PT_STARTUP_CLEAR.orderly
    // is SET on both (Part 2, 8.7).
    p.ok("Shutdown(CLEAR)", &shutdown(0));
    p.restart();
    p.ok("Startup(CLEAR) after Shutdown(CLEAR)", &startup(0));
    p.ok(
        "GetCapability(TPM_PT_STARTUP_CLEAR) after an orderly restart",
        &get_capability(cap::TPM_PROPERTIES, 0x201, 1),
    );
    // And CLEAR after a restart without Shutdown.
    p.restart();
    p.ok("Startup(CLEAR) without Shutdown", &startup(0));
    p.ok(
        "GetCapability(TPM_PT_STARTUP_CLEAR) after a disorderly restart",
        &get_capability(cap::TPM_PROPERTIES, 0x201, 1),
    );
    assert!(n > 60, "only {n} properties in common");
    p.finish();
}

#[test]
fn capability_algorithms() {
    let mut p = Pair::new("capability_algorithms");
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(ALGS)",
        cap::ALGS,
        0,
        0xFFFF,
        caps::alg_property,
    );
    let n = caps::compare_maps(&mut p, &a, &b, &|k| {
        format!("algorithm {} attributes", alg_name(k as u16))
    });
    assert!(n > 20, "only {n} algorithms in common");
    p.finish();
}

#[test]
fn capability_command_attributes() {
    let mut p = Pair::new("capability_command_attributes");
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(COMMANDS)",
        cap::COMMANDS,
        0x11F,
        0xFFFF_FFFF,
        caps::command_attributes,
    );
    let n = caps::compare_maps(&mut p, &a, &b, &|k| {
        format!("command {} TPMA_CC", cc_name(k))
    });
    assert!(n > 100, "only {n} commands in common");
    p.finish();
}

#[test]
fn capability_pcrs_curves_handles() {
    let mut p = Pair::new("capability_pcrs_curves_handles");
    // PCR allocation (TPML_PCR_SELECTION).
    p.ok_rc("GetCapability(PCRS)", &get_capability(cap::PCRS, 0, 1));
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(ECC_CURVES)",
        cap::ECC_CURVES,
        0,
        0xFFFF,
        caps::plain_u16,
    );
    caps::compare_maps(&mut p, &a, &b, &|k| format!("curve {k:#06x}"));
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(PCR_PROPERTIES)",
        cap::PCR_PROPERTIES,
        0,
        0xFFFF,
        caps::tagged_pcr_select,
    );
    caps::compare_maps(&mut p, &a, &b, &|k| format!("PCR property {k:#x}"));
    for (what, first) in [
        ("transient", 0x8000_0000u32),
        ("persistent", 0x8100_0000),
        ("NV", 0x0100_0000),
        ("loaded sessions", 0x0200_0000),
        ("saved sessions", 0x0300_0000),
        ("permanent", 0x4000_0000),
        ("PCR", 0),
    ] {
        let (a, b) = caps::read_all(
            &mut p,
            &format!("GetCapability(HANDLES {what})"),
            cap::HANDLES,
            first,
            first | 0x00FF_FFFF,
            caps::plain_u32,
        );
        caps::compare_maps(&mut p, &a, &b, &|k| format!("handle {k:#010x} ({what})"));
    }
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(PP_COMMANDS)",
        cap::PP_COMMANDS,
        0,
        0xFFFF,
        caps::plain_u32,
    );
    caps::compare_maps(&mut p, &a, &b, &|k| format!("PP command {}", cc_name(k)));
    let (a, b) = caps::read_all(
        &mut p,
        "GetCapability(AUDIT_COMMANDS)",
        cap::AUDIT_COMMANDS,
        0,
        0xFFFF,
        caps::plain_u32,
    );
    caps::compare_maps(&mut p, &a, &b, &|k| {
        format!("audited command {}", cc_name(k))
    });
    p.finish();
}

// ---------------------------------------------------------------------
// Hashes, HMAC, sequences
// ---------------------------------------------------------------------

const HASHES: [u16; 4] = [alg::SHA1, alg::SHA256, alg::SHA384, alg::SHA512];

fn hash_cmd(data: &[u8], hash: u16, hierarchy: u32) -> Cmd {
    Cmd::new(cc::HASH).b2(data).u16(hash).u32(hierarchy)
}

#[test]
fn hash_command_digests_and_tickets() {
    let mut p = Pair::new("hash_command_digests_and_tickets");
    let long: Vec<u8> = (0..1024u32).map(|i| (i * 7 + 3) as u8).collect();
    let generated = cat(&[&0xFF54_4347u32.to_be_bytes(), b"looks like a TPM structure"]);
    for hash in HASHES {
        for (name, data) in [
            ("empty", &b""[..]),
            ("abc", &b"abc"[..]),
            ("1024 octets", &long[..]),
            ("TPM_GENERATED_VALUE prefix", &generated[..]),
        ] {
            for hierarchy in [rh::NULL, rh::OWNER, rh::ENDORSEMENT, rh::PLATFORM] {
                let what = format!("Hash({}, {name}, hierarchy {hierarchy:#x})", alg_name(hash));
                let both = p.ok_rc(&what, &hash_cmd(data, hash, hierarchy));
                if !both.ok() {
                    continue;
                }
                let (mut a, mut b) = (both.a.reader(), both.b.reader());
                p.eq(&format!("{what}: outHash"), a.b2(), b.b2());
                p.ticket(&what, &mut a, &mut b);
            }
        }
    }
    // Invalid requests.
    p.err("Hash(TPM_ALG_NULL)", &hash_cmd(b"abc", alg::NULL, rh::NULL));
    p.err("Hash(TPM_ALG_AES)", &hash_cmd(b"abc", alg::AES, rh::NULL));
    p.err("Hash(SM3_256)", &hash_cmd(b"abc", alg::SM3_256, rh::NULL));
    p.err(
        "Hash(1025 octets)",
        &hash_cmd(&[0; 1025], alg::SHA256, rh::NULL),
    );
    p.err(
        "Hash(bad hierarchy)",
        &hash_cmd(b"abc", alg::SHA256, 0x4000_0003),
    );
    p.err(
        "Hash(lockout hierarchy)",
        &hash_cmd(b"abc", alg::SHA256, rh::LOCKOUT),
    );
    p.err(
        "Hash(size past the end)",
        &Cmd::new(cc::HASH)
            .u16(10)
            .bytes(b"abc")
            .u16(alg::SHA256)
            .u32(rh::NULL),
    );
    p.finish();
}

#[test]
fn hash_and_event_sequences() {
    let mut p = Pair::new("hash_and_event_sequences");
    let chunk: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
    for hash in HASHES {
        let what = format!("HashSequenceStart({})", alg_name(hash));
        let both = p.ok_rc(
            &what,
            &Cmd::new(cc::HASHSEQUENCESTART).b2(b"seqauth").u16(hash),
        );
        let Some(h) = both.a.handle else { continue };
        for i in 0..3 {
            p.ok(
                &format!("SequenceUpdate({}) #{i}", alg_name(hash)),
                &Cmd::new(cc::SEQUENCEUPDATE)
                    .handle(h)
                    .pw(b"seqauth")
                    .b2(&chunk),
            );
        }
        let what = format!("SequenceComplete({})", alg_name(hash));
        let both = p.ok_rc(
            &what,
            &Cmd::new(cc::SEQUENCECOMPLETE)
                .handle(h)
                .pw(b"seqauth")
                .b2(b"tail")
                .u32(rh::OWNER),
        );
        if both.ok() {
            let (mut a, mut b) = (both.a.reader(), both.b.reader());
            p.eq(&format!("{what}: result"), a.b2(), b.b2());
            p.ticket(&what, &mut a, &mut b);
        }
        // The sequence is gone.
        p.err(
            &format!("SequenceUpdate after complete ({})", alg_name(hash)),
            &Cmd::new(cc::SEQUENCEUPDATE)
                .handle(h)
                .pw(b"seqauth")
                .b2(b"x"),
        );
    }
    // Wrong sequence auth: the sequence object has its own authValue
    // (no DA for sequences: TPM_RC_AUTH_FAIL? BAD_AUTH? compared).
    let both = p.ok_rc(
        "HashSequenceStart(SHA256) for bad auth",
        &Cmd::new(cc::HASHSEQUENCESTART)
            .b2(b"right")
            .u16(alg::SHA256),
    );
    if let Some(h) = both.a.handle {
        p.err(
            "SequenceUpdate with the wrong password",
            &Cmd::new(cc::SEQUENCEUPDATE).handle(h).pw(b"wrong").b2(b"x"),
        );
        p.ok("FlushContext(sequence)", &flush(h));
    }
    // Event sequence into PCR 16 (every bank).
    let both = p.ok_rc(
        "HashSequenceStart(NULL) (event sequence)",
        &Cmd::new(cc::HASHSEQUENCESTART).b2(b"").u16(alg::NULL),
    );
    if let Some(h) = both.a.handle {
        p.ok(
            "SequenceUpdate(event)",
            &Cmd::new(cc::SEQUENCEUPDATE).handle(h).pw(b"").b2(&chunk),
        );
        p.ok(
            "EventSequenceComplete(PCR 16)",
            &Cmd::new(cc::EVENTSEQUENCECOMPLETE)
                .handle(16)
                .handle(h)
                .pw(b"")
                .pw(b"")
                .b2(b"end"),
        );
    }
    pcr_read_all(&mut p, "after the event sequence", &[16]);
    p.finish();
}

/// PCR_Read of `pcrs` in every bank (both allocate SHA-1, SHA-256,
/// SHA-384 and SHA-512 at manufacture).
fn pcr_read_all(p: &mut Pair, when: &str, pcrs: &[u8]) {
    for hash in HASHES {
        let sel = pcr_selection(&[(hash, pcrs)]);
        p.pcr_read(
            &format!("PCR_Read({}, {pcrs:?}) {when}", alg_name(hash)),
            &sel,
        );
    }
}

#[test]
fn hmac_with_loaded_external_keys() {
    let mut p = Pair::new("hmac_with_loaded_external_keys");
    let data: Vec<u8> = (0..700u32).map(|i| (i * 13) as u8).collect();
    for hash in HASHES {
        for (kname, key) in [
            ("1-octet key", b"k".to_vec()),
            ("20-octet key", vec![0x14; 20]),
            ("64-octet key", vec![0x5a; 64]),
            ("128-octet key", vec![0xa5; 128]),
        ] {
            // Part 1, 24.7.5.1: a user-provided HMAC key may not be larger
            // than the hash's block size (64 for SHA-1/256, 128 for
            // SHA-384/512); libtpms's answer says which are valid.
            let what = format!("LoadExternal(HMAC {} {kname})", alg_name(hash));
            let both = p.exec(&what, &load_external_keyedhash(&key, alg::HMAC, hash));
            if both.ok() {
                hmac_checks(&mut p, &both, hash, kname, &data);
            } else if let Some(h) = both.a.handle {
                p.vtpm_only(&flush(h));
            }
        }
    }
    p.finish();
}

fn sha256(b: &[u8]) -> Vec<u8> {
    vtpm_difftest::crypto::hash(alg::SHA256, b)
}

/// The seed of every external symmetric object (Part 1, 27.5.3.2: the
/// unique field is H_nameAlg(seedValue || sensitive)).
const SEED: [u8; 32] = [0x33; 32];

/// `LoadExternal` of a KEYEDHASH key with `key`, scheme `kind` (HMAC or
/// NULL), SHA-256 name, password "auth", noDA, in the NULL hierarchy.
fn load_external_keyedhash(key: &[u8], kind: u16, hash: u16) -> Cmd {
    let attrs = if kind == alg::HMAC { oa::SIGN } else { 0 } | oa::USER_WITH_AUTH | oa::NO_DA;
    let public = keyedhash_public(
        alg::SHA256,
        attrs,
        b"",
        &scheme(kind, hash),
        &sha256(&cat(&[&SEED, key])),
    );
    let private = sensitive(alg::KEYEDHASH, b"auth", &SEED, key);
    load_external(&private, &public, rh::NULL)
}

fn hmac_checks(p: &mut Pair, key: &Both, hash: u16, kname: &str, data: &[u8]) {
    let Some(h) = key.a.handle else { return };
    let what = format!("HMAC({} {kname})", alg_name(hash));
    p.ok(
        &what,
        &Cmd::new(cc::HMAC).handle(h).pw(b"auth").b2(data).u16(hash),
    );
    // TPM_ALG_NULL selects the key's scheme hash.
    p.ok(
        &format!("{what} with TPM_ALG_NULL"),
        &Cmd::new(cc::HMAC)
            .handle(h)
            .pw(b"auth")
            .b2(data)
            .u16(alg::NULL),
    );
    // A different hash than the key's scheme: TPM_RC_VALUE.
    let other = if hash == alg::SHA256 {
        alg::SHA1
    } else {
        alg::SHA256
    };
    p.err(
        &format!("{what} with another hash"),
        &Cmd::new(cc::HMAC).handle(h).pw(b"auth").b2(data).u16(other),
    );
    p.err(
        &format!("{what} with the wrong password"),
        &Cmd::new(cc::HMAC).handle(h).pw(b"nope").b2(data).u16(hash),
    );
    // The same MAC through an HMAC sequence.
    let seq = p.ok_rc(
        &format!("HMAC_Start({} {kname})", alg_name(hash)),
        &Cmd::new(cc::HMAC_START)
            .handle(h)
            .pw(b"auth")
            .b2(b"s")
            .u16(hash),
    );
    if let Some(s) = seq.a.handle {
        let (first, second) = data.split_at(300);
        p.ok(
            "SequenceUpdate(hmac)",
            &Cmd::new(cc::SEQUENCEUPDATE).handle(s).pw(b"s").b2(first),
        );
        p.ok(
            "SequenceComplete(hmac)",
            &Cmd::new(cc::SEQUENCECOMPLETE)
                .handle(s)
                .pw(b"s")
                .b2(second)
                .u32(rh::NULL),
        );
    }
    p.ok("FlushContext(hmac key)", &flush(h));
}

// ---------------------------------------------------------------------
// PCRs
// ---------------------------------------------------------------------

/// `TPML_DIGEST_VALUES` with one digest per listed bank.
fn digest_values(banks: &[u16], fill: u8) -> Vec<u8> {
    let mut v = (banks.len() as u32).to_be_bytes().to_vec();
    for &h in banks {
        v.extend_from_slice(&h.to_be_bytes());
        v.extend(std::iter::repeat_n(fill, digest_len(h)));
    }
    v
}

fn pcr_extend(pcr: u32, values: &[u8]) -> Cmd {
    Cmd::new(cc::PCR_EXTEND).handle(pcr).pw(b"").bytes(values)
}

#[test]
fn pcr_extend_event_reset_and_read() {
    let mut p = Pair::new("pcr_extend_event_reset_and_read");
    let all: Vec<u8> = (0..24).collect();
    // Every PCR of every bank, 8 at a time (PCR_Read returns at most 8
    // digests per call).
    let read_everything = |p: &mut Pair, when: &str| {
        for hash in HASHES {
            for chunk in all.chunks(8) {
                p.pcr_read(
                    &format!("PCR_Read({} {chunk:?}) {when}", alg_name(hash)),
                    &pcr_selection(&[(hash, chunk)]),
                );
            }
        }
    };
    read_everything(&mut p, "after Startup");
    // Extends at locality 0 into the PCRs it may extend, with every bank,
    // one bank, and the same bank twice.
    for (i, pcr) in [0u32, 1, 7, 10, 15, 16, 23].into_iter().enumerate() {
        p.ok(
            &format!("PCR_Extend({pcr}, all banks)"),
            &pcr_extend(pcr, &digest_values(&HASHES, i as u8 + 1)),
        );
    }
    p.ok(
        "PCR_Extend(3, SHA-256 only)",
        &pcr_extend(3, &digest_values(&[alg::SHA256], 0x33)),
    );
    p.ok(
        "PCR_Extend(4, SHA-256 twice)",
        &pcr_extend(4, &digest_values(&[alg::SHA256, alg::SHA256], 0x44)),
    );
    p.ok(
        "PCR_Extend(5, no digests)",
        &pcr_extend(5, &digest_values(&[], 0)),
    );
    p.err(
        "PCR_Extend(6, SM3 digest)",
        &pcr_extend(6, &digest_values(&[alg::SM3_256], 0x66)),
    );
    p.err(
        "PCR_Extend(24)",
        &pcr_extend(24, &digest_values(&[alg::SHA256], 1)),
    );
    p.ok(
        "PCR_Extend(TPM_RH_NULL)",
        &pcr_extend(rh::NULL, &digest_values(&[alg::SHA256], 1)),
    );
    read_everything(&mut p, "after extends");
    // PCR_Event: the digests of the event data in every bank, returned.
    for (pcr, data) in [
        (2u32, &b"event data"[..]),
        (16, &[0u8; 1024][..]),
        (rh::NULL, &b"no PCR"[..]),
    ] {
        p.ok(
            &format!("PCR_Event({pcr:#x}, {} octets)", data.len()),
            &Cmd::new(cc::PCR_EVENT).handle(pcr).pw(b"").b2(data),
        );
    }
    p.err(
        "PCR_Event(2, 1025 octets)",
        &Cmd::new(cc::PCR_EVENT).handle(2).pw(b"").b2(&[0; 1025]),
    );
    // pcrUpdateCounter moves for every PCR but those in
    // TPM_PT_PCR_NO_INCREMENT (Part 1, 14.9).
    let sel16 = pcr_selection(&[(alg::SHA256, &[0, 16, 23])]);
    p.pcr_read("PCR_Read(0, 16, 23) before single extends", &sel16);
    for pcr in [16u32, 23, 0, 16] {
        p.ok(
            &format!("PCR_Extend({pcr}) alone"),
            &pcr_extend(pcr, &digest_values(&[alg::SHA256], 0x70)),
        );
        p.pcr_read(
            &format!("PCR_Read(0, 16, 23) after extending {pcr} alone"),
            &sel16,
        );
    }
    p.ok(
        "PCR_Reset(16) alone",
        &Cmd::new(cc::PCR_RESET).handle(16).pw(b""),
    );
    p.pcr_read("PCR_Read(0, 16, 23) after resetting 16 alone", &sel16);
    p.ok(
        "PCR_Extend(5, no digests) alone",
        &pcr_extend(5, &digest_values(&[], 0)),
    );
    p.pcr_read("PCR_Read(0, 16, 23) after extending no bank", &sel16);
    // Localities: who may extend and reset PCR 16-23 (PC client). The
    // values are compared after each attempt; a restart puts both TPMs
    // back in step afterwards.
    for locality in 0..=4u8 {
        p.set_locality(locality);
        for pcr in 16..=23u32 {
            let sel = pcr_selection(&[(alg::SHA256, &[pcr as u8])]);
            p.exec(
                &format!("PCR_Extend({pcr}) at locality {locality}"),
                &pcr_extend(pcr, &digest_values(&[alg::SHA256], pcr as u8)),
            );
            p.pcr_read(
                &format!("PCR_Read({pcr}) after extend at locality {locality}"),
                &sel,
            );
            p.exec(
                &format!("PCR_Reset({pcr}) at locality {locality}"),
                &Cmd::new(cc::PCR_RESET).handle(pcr).pw(b""),
            );
            p.pcr_read(
                &format!("PCR_Read({pcr}) after reset at locality {locality}"),
                &sel,
            );
        }
    }
    p.set_locality(0);
    p.ok("Shutdown(CLEAR) after the locality tests", &shutdown(0));
    p.restart();
    p.ok("Startup(CLEAR) after the locality tests", &startup(0));
    p.err("PCR_Reset(0)", &Cmd::new(cc::PCR_RESET).handle(0).pw(b""));
    // Selections: several banks at once, empty, short and long maps.
    p.pcr_read(
        "PCR_Read(two banks)",
        &pcr_selection(&[(alg::SHA1, &[0, 1, 2]), (alg::SHA256, &[0, 1, 2])]),
    );
    p.pcr_read("PCR_Read(no banks)", &pcr_selection(&[]));
    p.pcr_read(
        "PCR_Read(empty SHA-256 map)",
        &pcr_selection(&[(alg::SHA256, &[])]),
    );
    p.exec(
        "PCR_Read(sizeofSelect 1)",
        &Cmd::new(cc::PCR_READ).bytes(&cat(&[
            &1u32.to_be_bytes(),
            &alg::SHA256.to_be_bytes(),
            &[1, 0x0f],
        ])),
    );
    p.exec(
        "PCR_Read(sizeofSelect 4, PCR 24-31)",
        &Cmd::new(cc::PCR_READ).bytes(&cat(&[
            &1u32.to_be_bytes(),
            &alg::SHA256.to_be_bytes(),
            &[4, 1, 0, 0, 0xff],
        ])),
    );
    p.exec(
        "PCR_Read(unknown bank)",
        &Cmd::new(cc::PCR_READ).bytes(&pcr_selection(&[(alg::SM3_256, &[0]), (alg::SHA256, &[0])])),
    );
    p.exec(
        "PCR_Read(sizeofSelect 5)",
        &Cmd::new(cc::PCR_READ).bytes(&cat(&[
            &1u32.to_be_bytes(),
            &alg::SHA256.to_be_bytes(),
            &[5, 1, 0, 0, 0, 0],
        ])),
    );
    // State across Shutdown(STATE)/Startup(STATE) and Startup(CLEAR).
    p.ok("Shutdown(STATE)", &shutdown(1));
    p.restart();
    p.ok("Startup(STATE)", &startup(1));
    read_everything(&mut p, "after Startup(STATE)");
    p.ok("Shutdown(CLEAR)", &shutdown(0));
    p.restart();
    p.ok("Startup(CLEAR) after Shutdown(CLEAR)", &startup(0));
    read_everything(&mut p, "after Startup(CLEAR)");
    p.finish();
}

// ---------------------------------------------------------------------
// Names of loaded external keys
// ---------------------------------------------------------------------

const NAME_ALGS: [u16; 3] = [alg::SHA1, alg::SHA256, alg::SHA384];

fn rsa_n() -> Vec<u8> {
    h(keys::RSA_N)
}

/// Public RSA-2048 area of the fixed key.
fn rsa_pub(name_alg: u16, attrs: u32, sch: &[u8]) -> Vec<u8> {
    rsa_public(
        name_alg,
        attrs,
        b"",
        &sym_def(alg::NULL, 0, 0),
        sch,
        2048,
        0,
        &rsa_n(),
    )
}

/// Public P-256 (key 1) or P-384 area.
fn ecc_pub(name_alg: u16, attrs: u32, sch: &[u8], p384: bool) -> Vec<u8> {
    let (c, x, y) = if p384 {
        (curve::NIST_P384, h(keys::EC3_X), h(keys::EC3_Y))
    } else {
        (curve::NIST_P256, h(keys::EC1_X), h(keys::EC1_Y))
    };
    ecc_public(
        name_alg,
        attrs,
        b"",
        &sym_def(alg::NULL, 0, 0),
        sch,
        c,
        &x,
        &y,
    )
}

/// LoadExternal, then ReadPublic (outPublic, name, qualifiedName), both
/// compared; the key is flushed.
fn load_compare_names(p: &mut Pair, what: &str, private: &[u8], public: &[u8], hierarchy: u32) {
    let both = p.exec(what, &load_external(private, public, hierarchy));
    let Some(h) = both.a.handle else { return };
    if both.ok() {
        let (mut a, mut b) = (both.a.reader(), both.b.reader());
        p.eq(&format!("{what}: name"), a.b2(), b.b2());
        read_public(p, &format!("ReadPublic after {what}"), h);
        p.ok(&format!("FlushContext after {what}"), &flush(h));
    } else {
        p.vtpm_only(&flush(h));
    }
}

#[test]
fn names_of_loaded_external_keys() {
    let mut p = Pair::new("names_of_loaded_external_keys");
    let rsa_schemes = [
        ("NULL", scheme(alg::NULL, 0), oa::SIGN | oa::DECRYPT),
        ("RSASSA", scheme(alg::RSASSA, alg::SHA256), oa::SIGN),
        ("RSAPSS", scheme(alg::RSAPSS, alg::SHA384), oa::SIGN),
        ("OAEP", scheme(alg::OAEP, alg::SHA1), oa::DECRYPT),
        (
            "RSAES",
            scheme(alg::RSAES, 0).get(..2).unwrap_or_default().to_vec(),
            oa::DECRYPT,
        ),
    ];
    let ecc_schemes = [
        ("NULL", scheme(alg::NULL, 0), oa::SIGN | oa::DECRYPT),
        ("ECDSA", scheme(alg::ECDSA, alg::SHA256), oa::SIGN),
        ("ECDH", scheme(alg::ECDH, alg::SHA384), oa::DECRYPT),
        ("ECSCHNORR", scheme(alg::ECSCHNORR, alg::SHA256), oa::SIGN),
    ];
    for name_alg in NAME_ALGS {
        let n = alg_name(name_alg);
        for hierarchy in [rh::NULL, rh::OWNER, rh::ENDORSEMENT] {
            for (s, sch, attrs) in &rsa_schemes {
                load_compare_names(
                    &mut p,
                    &format!("LoadExternal(RSA-2048 public, {s}, {n}, {hierarchy:#x})"),
                    b"",
                    &rsa_pub(name_alg, *attrs | oa::USER_WITH_AUTH, sch),
                    hierarchy,
                );
            }
            for p384 in [false, true] {
                for (s, sch, attrs) in &ecc_schemes {
                    load_compare_names(
                        &mut p,
                        &format!(
                            "LoadExternal(ECC {} public, {s}, {n}, {hierarchy:#x})",
                            if p384 { "P-384" } else { "P-256" }
                        ),
                        b"",
                        &ecc_pub(name_alg, *attrs | oa::USER_WITH_AUTH, sch, p384),
                        hierarchy,
                    );
                }
            }
            load_compare_names(
                &mut p,
                &format!("LoadExternal(KEYEDHASH public, {n}, {hierarchy:#x})"),
                b"",
                &keyedhash_public(
                    name_alg,
                    oa::SIGN,
                    b"",
                    &scheme(alg::HMAC, alg::SHA256),
                    &[0x42; 32],
                ),
                hierarchy,
            );
            load_compare_names(
                &mut p,
                &format!("LoadExternal(SYMCIPHER public, {n}, {hierarchy:#x})"),
                b"",
                &symcipher_public(
                    name_alg,
                    oa::DECRYPT | oa::SIGN,
                    b"",
                    &sym_def(alg::AES, 128, alg::CFB),
                    &[0x24; 32],
                ),
                hierarchy,
            );
        }
        // With a private part (NULL hierarchy only, Part 3, 12.3).
        let seed = [0x33u8; 48];
        let dlen = digest_len(name_alg);
        let key = [0x5au8; 16];
        let unique = hash_of(name_alg, &cat(&[&seed[..dlen], &key]));
        load_compare_names(
            &mut p,
            &format!("LoadExternal(AES-128 private, {n})"),
            &sensitive(alg::SYMCIPHER, b"", &seed[..dlen], &key),
            &symcipher_public(
                name_alg,
                oa::DECRYPT | oa::SIGN | oa::USER_WITH_AUTH,
                b"",
                &sym_def(alg::AES, 128, alg::CFB),
                &unique,
            ),
            rh::NULL,
        );
        load_compare_names(
            &mut p,
            &format!("LoadExternal(RSA-2048 private, {n})"),
            &sensitive(alg::RSA, b"", b"", &h(keys::RSA_P)),
            &rsa_pub(
                name_alg,
                oa::SIGN | oa::DECRYPT | oa::USER_WITH_AUTH,
                &scheme(alg::NULL, 0),
            ),
            rh::NULL,
        );
        load_compare_names(
            &mut p,
            &format!("LoadExternal(P-256 private, {n})"),
            &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
            &ecc_pub(
                name_alg,
                oa::SIGN | oa::DECRYPT | oa::USER_WITH_AUTH,
                &scheme(alg::NULL, 0),
                false,
            ),
            rh::NULL,
        );
        // A private key in a hierarchy other than NULL.
        load_compare_names(
            &mut p,
            &format!("LoadExternal(P-256 private in owner hierarchy, {n})"),
            &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
            &ecc_pub(
                name_alg,
                oa::SIGN | oa::USER_WITH_AUTH,
                &scheme(alg::NULL, 0),
                false,
            ),
            rh::OWNER,
        );
    }
    // Keys and parameters one side may not support, and bad keys.
    for (what, public) in [
        (
            "RSA-1024",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                1024,
                0,
                &rsa_n()[..128],
            ),
        ),
        (
            "RSA-3072",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                3072,
                0,
                &[0xc5; 384],
            ),
        ),
        (
            "RSA-4096",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                4096,
                0,
                &[0xc5; 512],
            ),
        ),
        (
            "RSA-2048 with a short modulus",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                2048,
                0,
                &rsa_n()[..200],
            ),
        ),
        (
            "RSA-2048 with exponent 3",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                2048,
                3,
                &rsa_n(),
            ),
        ),
        (
            "RSA-2048 with exponent 65536",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                2048,
                65536,
                &rsa_n(),
            ),
        ),
        (
            "P-256 point not on the curve",
            ecc_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                curve::NIST_P256,
                &[1; 32],
                &[2; 32],
            ),
        ),
        (
            "P-256 with a P-384 sized point",
            ecc_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                curve::NIST_P256,
                &h(keys::EC3_X),
                &h(keys::EC3_Y),
            ),
        ),
        (
            "P-521 point",
            ecc_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                curve::NIST_P521,
                &[1; 66],
                &[2; 66],
            ),
        ),
        (
            "BN P-256 point",
            ecc_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                curve::BN_P256,
                &[1; 32],
                &[2; 32],
            ),
        ),
        (
            "unknown curve",
            ecc_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                0x0042,
                &[1; 32],
                &[2; 32],
            ),
        ),
        (
            "ECDSA scheme on a decrypt-only key",
            ecc_pub(
                alg::SHA256,
                oa::DECRYPT,
                &scheme(alg::ECDSA, alg::SHA256),
                false,
            ),
        ),
        (
            "RSASSA scheme on a decrypt-only key",
            rsa_pub(alg::SHA256, oa::DECRYPT, &scheme(alg::RSASSA, alg::SHA256)),
        ),
        (
            "nameAlg NULL",
            rsa_pub(alg::NULL, oa::SIGN, &scheme(alg::NULL, 0)),
        ),
        (
            "nameAlg SM3",
            rsa_pub(alg::SM3_256, oa::SIGN, &scheme(alg::NULL, 0)),
        ),
        (
            "restricted signing key without scheme",
            rsa_pub(
                alg::SHA256,
                oa::SIGN | oa::RESTRICTED,
                &scheme(alg::NULL, 0),
            ),
        ),
        (
            "restricted decrypt key without symmetric",
            rsa_pub(
                alg::SHA256,
                oa::DECRYPT | oa::RESTRICTED,
                &scheme(alg::NULL, 0),
            ),
        ),
        (
            "AES-192 SYMCIPHER",
            symcipher_public(
                alg::SHA256,
                oa::DECRYPT,
                b"",
                &sym_def(alg::AES, 192, alg::CFB),
                &[0x24; 32],
            ),
        ),
        (
            "AES-100 SYMCIPHER",
            symcipher_public(
                alg::SHA256,
                oa::DECRYPT,
                b"",
                &sym_def(alg::AES, 100, alg::CFB),
                &[0x24; 32],
            ),
        ),
        (
            "CAMELLIA SYMCIPHER",
            symcipher_public(
                alg::SHA256,
                oa::DECRYPT,
                b"",
                &sym_def(alg::CAMELLIA, 128, alg::CFB),
                &[0x24; 32],
            ),
        ),
        (
            "KEYEDHASH with a 33-octet unique",
            keyedhash_public(
                alg::SHA256,
                oa::SIGN,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                &[0x42; 33],
            ),
        ),
        (
            "authPolicy of the wrong size",
            rsa_public(
                alg::SHA256,
                oa::SIGN,
                &[7; 20],
                &sym_def(alg::NULL, 0, 0),
                &scheme(alg::NULL, 0),
                2048,
                0,
                &rsa_n(),
            ),
        ),
    ] {
        load_compare_names(
            &mut p,
            &format!("LoadExternal({what})"),
            b"",
            &public,
            rh::NULL,
        );
    }
    // Private parts that do not match their public part.
    load_compare_names(
        &mut p,
        "LoadExternal(RSA private prime not dividing n)",
        &sensitive(alg::RSA, b"", b"", &[0xfb; 128]),
        &rsa_pub(
            alg::SHA256,
            oa::SIGN | oa::USER_WITH_AUTH,
            &scheme(alg::NULL, 0),
        ),
        rh::NULL,
    );
    load_compare_names(
        &mut p,
        "LoadExternal(ECC private scalar not matching the point)",
        &sensitive(alg::ECC, b"", b"", &h(keys::EC2_D)),
        &ecc_pub(
            alg::SHA256,
            oa::SIGN | oa::USER_WITH_AUTH,
            &scheme(alg::NULL, 0),
            false,
        ),
        rh::NULL,
    );
    load_compare_names(
        &mut p,
        "LoadExternal(AES key with a wrong unique)",
        &sensitive(alg::SYMCIPHER, b"", &SEED, &[0x5a; 16]),
        &symcipher_public(
            alg::SHA256,
            oa::DECRYPT | oa::USER_WITH_AUTH,
            b"",
            &sym_def(alg::AES, 128, alg::CFB),
            &[0; 32],
        ),
        rh::NULL,
    );
    load_compare_names(
        &mut p,
        "LoadExternal(AES-128 key of 15 octets)",
        &sensitive(alg::SYMCIPHER, b"", &SEED, &[0x5a; 15]),
        &symcipher_public(
            alg::SHA256,
            oa::DECRYPT | oa::USER_WITH_AUTH,
            b"",
            &sym_def(alg::AES, 128, alg::CFB),
            &sha256(&cat(&[&SEED, &[0x5a; 15]])),
        ),
        rh::NULL,
    );
    load_compare_names(
        &mut p,
        "LoadExternal(sensitive type mismatch)",
        &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
        &rsa_pub(
            alg::SHA256,
            oa::SIGN | oa::USER_WITH_AUTH,
            &scheme(alg::NULL, 0),
        ),
        rh::NULL,
    );
    load_compare_names(
        &mut p,
        "LoadExternal(fixedTPM with a private part)",
        &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
        &ecc_pub(
            alg::SHA256,
            oa::SIGN | oa::USER_WITH_AUTH | oa::FIXED_TPM | oa::FIXED_PARENT,
            &scheme(alg::NULL, 0),
            false,
        ),
        rh::NULL,
    );
    p.finish();
}

/// ReadPublic of vtpm's handle `h`: outPublic, name and qualifiedName
/// compared one by one.
fn read_public(p: &mut Pair, what: &str, h: u32) -> Both {
    let both = p.ok_rc(what, &Cmd::new(cc::READPUBLIC).handle(h));
    if both.ok() {
        let (mut a, mut b) = (both.a.reader(), both.b.reader());
        p.eq(&format!("{what}: outPublic"), a.b2(), b.b2());
        p.eq(&format!("{what}: name"), a.b2(), b.b2());
        p.eq(&format!("{what}: qualifiedName"), a.b2(), b.b2());
    }
    both
}

fn hash_of(hash: u16, data: &[u8]) -> Vec<u8> {
    vtpm_difftest::crypto::hash(hash, data)
}

// ---------------------------------------------------------------------
// Policy digests (trial sessions)
// ---------------------------------------------------------------------

/// Start a trial session with `hash`, run `steps` in it (each compared on
/// its response code), then compare PolicyGetDigest; the session is
/// flushed.
fn trial(p: &mut Pair, what: &str, hash: u16, steps: &[Cmd]) {
    let s = p.ok_rc(
        &format!("StartAuthSession(trial {}) for {what}", alg_name(hash)),
        &start_session(3, hash),
    );
    let Some(sh) = s.a.handle else { return };
    for (i, step) in steps.iter().enumerate() {
        let step = step.clone().with_first_handle(sh);
        p.exec(&format!("{what} step {i} ({})", cc_name(step.code)), &step);
    }
    p.ok(
        &format!("PolicyGetDigest after {what} ({})", alg_name(hash)),
        &policy_get_digest(sh),
    );
    p.ok(
        &format!("FlushContext(trial session) after {what}"),
        &flush(sh),
    );
}

/// A policy command whose first handle is the session (filled in by
/// `trial`).
fn pol(code: u32) -> Cmd {
    Cmd::new(code).handle(0)
}

#[test]
fn policy_digests_of_trial_sessions() {
    let mut p = Pair::new("policy_digests_of_trial_sessions");
    // Names used by the policies: an NV index, an external key.
    let nv_index = 0x0150_0010;
    p.ok(
        "NV_DefineSpace(policy NV index)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(
                nv_index,
                alg::SHA256,
                nva::OWNERWRITE | nva::OWNERREAD | nva::AUTHREAD | nva::AUTHWRITE | nva::NO_DA,
                b"",
                8,
            ),
        ),
    );
    p.ok(
        "NV_Write(policy NV index)",
        &Cmd::new(cc::NV_WRITE)
            .handle(nv_index)
            .handle(nv_index)
            .pw(b"")
            .b2(&[1, 2, 3, 4, 5, 6, 7, 8])
            .u16(0),
    );
    let key = p.ok(
        "LoadExternal(RSA public for policies)",
        &load_external(
            b"",
            &rsa_pub(
                alg::SHA256,
                oa::SIGN | oa::USER_WITH_AUTH,
                &scheme(alg::RSASSA, alg::SHA256),
            ),
            rh::OWNER,
        ),
    );
    let key_name = key.a.reader().b2().to_vec();
    let pcr_sel = pcr_selection(&[(alg::SHA256, &[0, 1, 2, 16]), (alg::SHA1, &[7])]);
    let d32 = [0xd1u8; 32];
    for hash in [alg::SHA1, alg::SHA256, alg::SHA384] {
        let dl = digest_len(hash);
        let some = vec![0xabu8; dl];
        let other = vec![0xcdu8; dl];
        trial(&mut p, "empty policy", hash, &[]);
        trial(
            &mut p,
            "PolicyPCR(current PCRs)",
            hash,
            &[pol(cc::POLICYPCR).b2(b"").bytes(&pcr_sel)],
        );
        trial(
            &mut p,
            "PolicyPCR(given digest)",
            hash,
            &[pol(cc::POLICYPCR).b2(&some).bytes(&pcr_sel)],
        );
        trial(
            &mut p,
            "PolicyPCR(wrong digest size)",
            hash,
            &[pol(cc::POLICYPCR).b2(&[1; 7]).bytes(&pcr_sel)],
        );
        trial(
            &mut p,
            "PolicyCommandCode(Sign)",
            hash,
            &[pol(cc::POLICYCOMMANDCODE).u32(cc::SIGN)],
        );
        trial(
            &mut p,
            "PolicyCommandCode(unknown)",
            hash,
            &[pol(cc::POLICYCOMMANDCODE).u32(0x1FF)],
        );
        trial(
            &mut p,
            "PolicyCommandCode twice",
            hash,
            &[
                pol(cc::POLICYCOMMANDCODE).u32(cc::SIGN),
                pol(cc::POLICYCOMMANDCODE).u32(cc::SIGN),
            ],
        );
        trial(
            &mut p,
            "PolicyCommandCode conflicting",
            hash,
            &[
                pol(cc::POLICYCOMMANDCODE).u32(cc::SIGN),
                pol(cc::POLICYCOMMANDCODE).u32(cc::UNSEAL),
            ],
        );
        trial(&mut p, "PolicyAuthValue", hash, &[pol(cc::POLICYAUTHVALUE)]);
        trial(&mut p, "PolicyPassword", hash, &[pol(cc::POLICYPASSWORD)]);
        trial(
            &mut p,
            "PolicyAuthValue then PolicyPassword",
            hash,
            &[pol(cc::POLICYAUTHVALUE), pol(cc::POLICYPASSWORD)],
        );
        trial(
            &mut p,
            "PolicyPhysicalPresence",
            hash,
            &[pol(cc::POLICYPHYSICALPRESENCE)],
        );
        for loc in [0x01u8, 0x03, 0x1f, 0x00, 0x20, 0xff] {
            trial(
                &mut p,
                &format!("PolicyLocality({loc:#x})"),
                hash,
                &[pol(cc::POLICYLOCALITY).u8(loc)],
            );
        }
        trial(
            &mut p,
            "PolicyOR(2)",
            hash,
            &[pol(cc::POLICYOR).u32(2).b2(&some).b2(&other)],
        );
        trial(
            &mut p,
            "PolicyOR(8)",
            hash,
            &[pol(cc::POLICYOR).u32(8).bytes(&sized(&some).repeat(8))],
        );
        trial(
            &mut p,
            "PolicyOR(1)",
            hash,
            &[pol(cc::POLICYOR).u32(1).b2(&some)],
        );
        trial(
            &mut p,
            "PolicyOR(9)",
            hash,
            &[pol(cc::POLICYOR).u32(9).bytes(&sized(&some).repeat(9))],
        );
        trial(
            &mut p,
            "PolicyOR(wrong digest size)",
            hash,
            &[pol(cc::POLICYOR).u32(2).b2(&some).b2(&[1; 7])],
        );
        trial(
            &mut p,
            "PolicyCpHash",
            hash,
            &[pol(cc::POLICYCPHASH).b2(&some)],
        );
        trial(
            &mut p,
            "PolicyCpHash(wrong size)",
            hash,
            &[pol(cc::POLICYCPHASH).b2(&[1; 7])],
        );
        trial(
            &mut p,
            "PolicyCpHash twice (different)",
            hash,
            &[
                pol(cc::POLICYCPHASH).b2(&some),
                pol(cc::POLICYCPHASH).b2(&other),
            ],
        );
        trial(
            &mut p,
            "PolicyNameHash",
            hash,
            &[pol(cc::POLICYNAMEHASH).b2(&some)],
        );
        trial(
            &mut p,
            "PolicyNameHash then PolicyCpHash",
            hash,
            &[
                pol(cc::POLICYNAMEHASH).b2(&some),
                pol(cc::POLICYCPHASH).b2(&other),
            ],
        );
        trial(
            &mut p,
            "PolicyTemplate",
            hash,
            &[pol(cc::POLICYTEMPLATE).b2(&some)],
        );
        trial(
            &mut p,
            "PolicyNvWritten(YES)",
            hash,
            &[pol(cc::POLICYNVWRITTEN).u8(1)],
        );
        trial(
            &mut p,
            "PolicyNvWritten(NO)",
            hash,
            &[pol(cc::POLICYNVWRITTEN).u8(0)],
        );
        trial(
            &mut p,
            "PolicyNvWritten(2)",
            hash,
            &[pol(cc::POLICYNVWRITTEN).u8(2)],
        );
        trial(
            &mut p,
            "PolicyCounterTimer",
            hash,
            &[pol(cc::POLICYCOUNTERTIMER)
                .b2(&[0, 0, 0, 1])
                .u16(8)
                .u16(0x0004)],
        );
        trial(
            &mut p,
            "PolicyDuplicationSelect(includeObject)",
            hash,
            &[pol(cc::POLICYDUPLICATIONSELECT)
                .b2(&key_name)
                .b2(&key_name)
                .u8(1)],
        );
        trial(
            &mut p,
            "PolicyDuplicationSelect(no object)",
            hash,
            &[pol(cc::POLICYDUPLICATIONSELECT)
                .b2(&key_name)
                .b2(&key_name)
                .u8(0)],
        );
        trial(
            &mut p,
            "PolicyRestart",
            hash,
            &[pol(cc::POLICYAUTHVALUE), pol(cc::POLICYRESTART)],
        );
        // PolicySecret with the owner hierarchy (empty password).
        let secret = |policy_ref: &[u8], expiration: u32| {
            Cmd::new(cc::POLICYSECRET)
                .handle(rh::OWNER)
                .handle(0)
                .pw(b"")
                .b2(b"")
                .b2(b"")
                .b2(policy_ref)
                .u32(expiration)
        };
        for (name, c) in [
            ("PolicySecret(owner)", secret(b"", 0)),
            ("PolicySecret(owner, policyRef)", secret(b"reference", 0)),
            ("PolicySecret(owner, expiration)", secret(b"", 100)),
        ] {
            let s = p.ok_rc(
                &format!("StartAuthSession(trial) for {name}"),
                &start_session(3, hash),
            );
            let Some(sh) = s.a.handle else { continue };
            let both = p.exec(
                &format!("{name} ({})", alg_name(hash)),
                &c.with_handle_at(1, sh),
            );
            if both.ok() {
                // timeout and a ticket (NULL for expiration 0 in a
                // trial session): compared as tickets.
                let (mut a, mut b) = (both.a.reader(), both.b.reader());
                p.eq(&format!("{name}: timeout"), a.b2(), b.b2());
                p.ticket(name, &mut a, &mut b);
            }
            p.ok(
                &format!("PolicyGetDigest after {name} ({})", alg_name(hash)),
                &policy_get_digest(sh),
            );
            p.ok("FlushContext(trial)", &flush(sh));
        }
        // PolicyNV against the NV index (trial: no comparison done).
        trial(
            &mut p,
            "PolicyNV(eq)",
            hash,
            &[Cmd::new(cc::POLICYNV)
                .handle(nv_index)
                .handle(nv_index)
                .handle(0)
                .pw(b"")
                .b2(&[1, 2])
                .u16(0)
                .u16(0)],
        );
        // PolicyAuthorize (trial: the ticket is not checked), with a NULL
        // TPMT_TK_VERIFIED and with a ticket of the wrong tag
        // (TPM_ST_CREATION: TPM_RC_TAG when unmarshalled, Part 2, 10.6.5).
        trial(
            &mut p,
            "PolicyAuthorize",
            hash,
            &[pol(cc::POLICYAUTHORIZE)
                .b2(&some)
                .b2(b"ref")
                .b2(&key_name)
                .u16(0x8022)
                .u32(rh::NULL)
                .b2(b"")],
        );
        trial(
            &mut p,
            "PolicyAuthorize(ticket tag TPM_ST_CREATION)",
            hash,
            &[pol(cc::POLICYAUTHORIZE)
                .b2(&some)
                .b2(b"ref")
                .b2(&key_name)
                .u16(0x8021)
                .u32(rh::NULL)
                .b2(b"")],
        );
        trial(
            &mut p,
            "PolicyAuthValue, PolicyCommandCode, PolicyPCR, PolicyOR",
            hash,
            &[
                pol(cc::POLICYAUTHVALUE),
                pol(cc::POLICYCOMMANDCODE).u32(cc::NV_READ),
                pol(cc::POLICYPCR).b2(b"").bytes(&pcr_sel),
                pol(cc::POLICYOR).u32(2).b2(&some).b2(&other),
            ],
        );
        let _ = d32;
    }
    // PolicyNV with the NV index's name, PolicySigned with a real
    // signature, PolicyAuthorize with a real ticket: see
    // policy_sessions_with_tickets.
    p.finish();
}

/// `TPMT_SIGNATURE` RSASSA/RSAPSS.
fn rsa_signature(kind: u16, hash: u16, sig: &[u8]) -> Vec<u8> {
    cat(&[&kind.to_be_bytes(), &hash.to_be_bytes(), &sized(sig)])
}

/// `TPMT_SIGNATURE` ECDSA.
fn ecdsa_signature(hash: u16, r: &[u8], s: &[u8]) -> Vec<u8> {
    cat(&[
        &alg::ECDSA.to_be_bytes(),
        &hash.to_be_bytes(),
        &sized(r),
        &sized(s),
    ])
}

/// `TPM2_Sign(key, digest, scheme NULL, NULL hashcheck ticket)`.
fn sign_digest(key: u32, digest: &[u8]) -> Cmd {
    Cmd::new(cc::SIGN)
        .handle(key)
        .pw(b"")
        .b2(digest)
        .u16(alg::NULL)
        .u16(0x8024)
        .u32(rh::NULL)
        .b2(b"")
}

#[test]
fn policy_sessions_with_signatures_and_tickets() {
    let mut p = Pair::new("policy_sessions_with_signatures_and_tickets");
    // The signing key, private (NULL hierarchy) and public (owner).
    let public = rsa_pub(
        alg::SHA256,
        oa::SIGN | oa::USER_WITH_AUTH,
        &scheme(alg::RSASSA, alg::SHA256),
    );
    let signer = p.ok(
        "LoadExternal(RSA private signer)",
        &load_external(
            &sensitive(alg::RSA, b"", b"", &h(keys::RSA_P)),
            &public,
            rh::NULL,
        ),
    );
    let verifier = p.ok(
        "LoadExternal(RSA public verifier, owner)",
        &load_external(b"", &public, rh::OWNER),
    );
    let (Some(sk), Some(vk)) = (signer.a.handle, verifier.a.handle) else {
        panic!("harness: external keys did not load on vtpm");
    };
    let key_name = verifier.a.reader().b2().to_vec();
    // The approved policy: PolicyAuthValue (from a trial session).
    let t = p.ok_rc(
        "StartAuthSession(trial) for the approved policy",
        &start_session(3, alg::SHA256),
    );
    let th = t.a.handle.unwrap_or(0);
    p.ok(
        "PolicyAuthValue (trial)",
        &pol(cc::POLICYAUTHVALUE).with_first_handle(th),
    );
    let approved = p.ok("PolicyGetDigest (approved)", &policy_get_digest(th));
    let approved = approved.a.reader().b2().to_vec();
    p.ok("FlushContext(trial)", &flush(th));
    // aHash = H(approvedPolicy || policyRef), signed outside the policy.
    let policy_ref = b"policy ref";
    let a_hash = sha256(&cat(&[&approved, policy_ref]));
    let sig = p.ok("Sign(aHash, RSASSA)", &sign_digest(sk, &a_hash));
    let sig_bytes = sig.a.params.clone();
    let both = p.ok_rc(
        "VerifySignature(aHash) with the owner key",
        &Cmd::new(cc::VERIFYSIGNATURE)
            .handle(vk)
            .b2(&a_hash)
            .bytes(&sig_bytes),
    );
    let (ticket_a, ticket_b) = (both.a.params.clone(), both.b.params.clone());
    if both.ok() {
        let (mut a, mut b) = (both.a.reader(), both.b.reader());
        p.ticket("VerifySignature(aHash)", &mut a, &mut b);
    }
    for (what, good_ticket) in [("valid ticket", true), ("other TPM's ticket", false)] {
        let s = p.ok_rc(
            &format!("StartAuthSession(policy) for PolicyAuthorize with a {what}"),
            &start_session(1, alg::SHA256),
        );
        let Some(sh) = s.a.handle else { continue };
        p.ok(
            "PolicyAuthValue (policy session)",
            &pol(cc::POLICYAUTHVALUE).with_first_handle(sh),
        );
        let authorize = |ticket: &[u8]| {
            Cmd::new(cc::POLICYAUTHORIZE)
                .handle(sh)
                .b2(&approved)
                .b2(policy_ref)
                .b2(&key_name)
                .bytes(ticket)
        };
        let (ta, tb) = if good_ticket {
            (&ticket_a, &ticket_b)
        } else {
            (&ticket_b, &ticket_a)
        };
        let mut cb = authorize(tb);
        cb = cb.with_first_handle(p.map(sh));
        p.exec2(
            &format!("PolicyAuthorize with a {what}"),
            &authorize(ta),
            &cb,
        );
        p.ok(
            &format!("PolicyGetDigest after PolicyAuthorize with a {what}"),
            &policy_get_digest(sh),
        );
        // The same with a ticket of the wrong tag, in a real session.
        p.exec(
            &format!("PolicyAuthorize with a TPM_ST_CREATION ticket after the {what}"),
            &Cmd::new(cc::POLICYAUTHORIZE)
                .handle(sh)
                .b2(&approved)
                .b2(policy_ref)
                .b2(&key_name)
                .u16(0x8021)
                .u32(rh::OWNER)
                .b2(&[0; 32]),
        );
        p.ok("FlushContext(policy session)", &flush(sh));
    }
    // PolicySigned: nonceTPM empty, so the signed digest is
    // H(expiration || cpHashA || policyRef), the same on both TPMs.
    for expiration in [0i32, 100, -100] {
        let digest = sha256(&cat(&[&expiration.to_be_bytes(), b"", policy_ref]));
        let sig = p.ok(
            &format!("Sign(PolicySigned digest, expiration {expiration})"),
            &sign_digest(sk, &digest),
        );
        for kind in [3u8, 1] {
            let s = p.ok_rc(
                "StartAuthSession for PolicySigned",
                &start_session(kind, alg::SHA256),
            );
            let Some(sh) = s.a.handle else { continue };
            let what = format!(
                "PolicySigned(expiration {expiration}, {})",
                if kind == 3 { "trial" } else { "policy" }
            );
            let both = p.exec(
                &what,
                &Cmd::new(cc::POLICYSIGNED)
                    .handle(vk)
                    .handle(sh)
                    .b2(b"")
                    .b2(b"")
                    .b2(policy_ref)
                    .u32(expiration as u32)
                    .bytes(&sig.a.params),
            );
            if both.ok() {
                let (mut a, mut b) = (both.a.reader(), both.b.reader());
                let (ta, tb) = (a.b2(), b.b2());
                p.eq_u(
                    &format!("{what}: timeout size"),
                    ta.len() as u64,
                    tb.len() as u64,
                );
                p.ticket(&what, &mut a, &mut b);
            }
            p.ok(
                &format!("PolicyGetDigest after {what}"),
                &policy_get_digest(sh),
            );
            p.ok("FlushContext(session)", &flush(sh));
        }
    }
    // A bad signature.
    let s = p.ok_rc(
        "StartAuthSession for PolicySigned (bad signature)",
        &start_session(1, alg::SHA256),
    );
    if let Some(sh) = s.a.handle {
        p.err(
            "PolicySigned with a bad signature",
            &Cmd::new(cc::POLICYSIGNED)
                .handle(vk)
                .handle(sh)
                .b2(b"")
                .b2(b"")
                .b2(policy_ref)
                .u32(0)
                .bytes(&rsa_signature(alg::RSASSA, alg::SHA256, &[0x42; 256])),
        );
        p.ok("FlushContext(session)", &flush(sh));
    }
    // PolicyNV in real sessions: comparisons against the index contents.
    let nv_index = 0x0150_0020;
    p.ok(
        "NV_DefineSpace(PolicyNV index)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(
                nv_index,
                alg::SHA256,
                nva::OWNERWRITE | nva::OWNERREAD | nva::AUTHREAD | nva::AUTHWRITE | nva::NO_DA,
                b"",
                8,
            ),
        ),
    );
    let s = p.ok_rc(
        "StartAuthSession(policy) for PolicyNV on an unwritten index",
        &start_session(1, alg::SHA256),
    );
    if let Some(sh) = s.a.handle {
        p.err(
            "PolicyNV on an unwritten index",
            &Cmd::new(cc::POLICYNV)
                .handle(nv_index)
                .handle(nv_index)
                .handle(sh)
                .pw(b"")
                .b2(&[0])
                .u16(0)
                .u16(0),
        );
        p.ok("FlushContext", &flush(sh));
    }
    p.ok(
        "NV_Write(PolicyNV index)",
        &Cmd::new(cc::NV_WRITE)
            .handle(nv_index)
            .handle(nv_index)
            .pw(b"")
            .b2(&[0, 0, 0, 0, 0, 0, 0x10, 0x20])
            .u16(0),
    );
    for op in 0u16..=11 {
        for (operand, offset) in [
            (&[0x10u8, 0x20][..], 6u16),
            (&[0x10u8][..], 6),
            (&[0x30u8][..], 7),
            (&[0u8; 9][..], 0),
            (&[1u8][..], 8),
        ] {
            let s = p.ok_rc(
                "StartAuthSession(policy) for PolicyNV",
                &start_session(1, alg::SHA256),
            );
            let Some(sh) = s.a.handle else { continue };
            p.exec(
                &format!(
                    "PolicyNV(op {op}, operand {}, offset {offset})",
                    hex(operand)
                ),
                &Cmd::new(cc::POLICYNV)
                    .handle(nv_index)
                    .handle(nv_index)
                    .handle(sh)
                    .pw(b"")
                    .b2(operand)
                    .u16(offset)
                    .u16(op),
            );
            p.ok("PolicyGetDigest after PolicyNV", &policy_get_digest(sh));
            p.ok("FlushContext", &flush(sh));
        }
    }
    // PolicyPCR in a real session, then a PCR change: the digest is the
    // same, the session is then rejected when used (not compared here).
    let s = p.ok_rc(
        "StartAuthSession(policy) for PolicyPCR",
        &start_session(1, alg::SHA256),
    );
    if let Some(sh) = s.a.handle {
        let sel = pcr_selection(&[(alg::SHA256, &[0, 16])]);
        p.ok(
            "PolicyPCR (policy session)",
            &pol(cc::POLICYPCR).with_first_handle(sh).b2(b"").bytes(&sel),
        );
        p.err(
            "PolicyPCR with a digest that does not match the PCRs",
            &pol(cc::POLICYPCR)
                .with_first_handle(sh)
                .b2(&[0xee; 32])
                .bytes(&sel),
        );
        p.ok("PolicyGetDigest after PolicyPCR", &policy_get_digest(sh));
        p.ok("FlushContext", &flush(sh));
    }
    p.finish();
}

// ---------------------------------------------------------------------
// NV indices
// ---------------------------------------------------------------------

fn nv_write(index: u32, data: &[u8], offset: u16) -> Cmd {
    Cmd::new(cc::NV_WRITE)
        .handle(index)
        .handle(index)
        .pw(b"")
        .b2(data)
        .u16(offset)
}

fn nv_read(index: u32, size: u16, offset: u16) -> Cmd {
    Cmd::new(cc::NV_READ)
        .handle(index)
        .handle(index)
        .pw(b"")
        .u16(size)
        .u16(offset)
}

fn nv_read_public(p: &mut Pair, what: &str, index: u32) {
    let both = p.ok_rc(what, &Cmd::new(cc::NV_READPUBLIC).handle(index));
    if both.ok() {
        let (mut a, mut b) = (both.a.reader(), both.b.reader());
        p.eq(&format!("{what}: nvPublic"), a.b2(), b.b2());
        p.eq(&format!("{what}: nvName"), a.b2(), b.b2());
    }
}

#[test]
fn nv_indices_contents_names_and_errors() {
    let mut p = Pair::new("nv_indices_contents_names_and_errors");
    let rw = nva::OWNERWRITE | nva::OWNERREAD | nva::AUTHWRITE | nva::AUTHREAD | nva::NO_DA;
    // Ordinary indices with each nameAlg.
    for (i, name_alg) in NAME_ALGS.into_iter().enumerate() {
        let index = 0x0150_0100 + i as u32;
        let n = alg_name(name_alg);
        p.ok(
            &format!("NV_DefineSpace(ordinary, 64 octets, {n})"),
            &nv_define(rh::OWNER, b"", &nv_public(index, name_alg, rw, b"", 64)),
        );
        nv_read_public(
            &mut p,
            &format!("NV_ReadPublic(ordinary {n}) before write"),
            index,
        );
        p.err(
            &format!("NV_Read(ordinary {n}) before write"),
            &nv_read(index, 8, 0),
        );
        p.ok(
            &format!("NV_Write(ordinary {n}, 10 at 5)"),
            &nv_write(index, b"0123456789", 5),
        );
        nv_read_public(
            &mut p,
            &format!("NV_ReadPublic(ordinary {n}) after write"),
            index,
        );
        p.ok(
            &format!("NV_Read(ordinary {n}, all)"),
            &nv_read(index, 64, 0),
        );
        p.ok(
            &format!("NV_Read(ordinary {n}, 3 at 7)"),
            &nv_read(index, 3, 7),
        );
        p.ok(
            &format!("NV_Read(ordinary {n}, 0 at 64)"),
            &nv_read(index, 0, 64),
        );
        p.err(
            &format!("NV_Read(ordinary {n}, 8 at 60)"),
            &nv_read(index, 8, 60),
        );
        p.err(
            &format!("NV_Read(ordinary {n}, 1 at 65)"),
            &nv_read(index, 1, 65),
        );
        p.err(
            &format!("NV_Write(ordinary {n}, 8 at 60)"),
            &nv_write(index, &[1; 8], 60),
        );
        p.err(
            &format!("NV_Write(ordinary {n}, 1 at 64)"),
            &nv_write(index, &[1], 64),
        );
        p.ok(
            &format!("NV_Write(ordinary {n}, empty at 64)"),
            &nv_write(index, b"", 64),
        );
        p.err(
            &format!("NV_Write(ordinary {n}, 65 octets)"),
            &nv_write(index, &[1; 65], 0),
        );
        p.ok(
            &format!("NV_Read(ordinary {n}, all, again)"),
            &nv_read(index, 64, 0),
        );
        // Authorization by the index's own (empty) auth vs a wrong one.
        p.err(
            &format!("NV_Read(ordinary {n}) with a wrong password (noDA)"),
            &Cmd::new(cc::NV_READ)
                .handle(index)
                .handle(index)
                .pw(b"wrong")
                .u16(4)
                .u16(0),
        );
        p.ok(
            &format!("NV_Read(ordinary {n}) with owner authorization"),
            &Cmd::new(cc::NV_READ)
                .handle(rh::OWNER)
                .handle(index)
                .pw(b"")
                .u16(4)
                .u16(0),
        );
        p.err(
            &format!("NV_Read(ordinary {n}) with platform authorization (no PPREAD)"),
            &Cmd::new(cc::NV_READ)
                .handle(rh::PLATFORM)
                .handle(index)
                .pw(b"")
                .u16(4)
                .u16(0),
        );
    }
    // A DA-protected index with a password: a wrong password is
    // TPM_RC_AUTH_FAIL (DA) where a noDA one is TPM_RC_BAD_AUTH.
    let da = 0x0150_0200;
    p.ok(
        "NV_DefineSpace(DA-protected, password)",
        &nv_define(
            rh::OWNER,
            b"secret",
            &nv_public(da, alg::SHA256, nva::AUTHWRITE | nva::AUTHREAD, b"", 16),
        ),
    );
    p.ok(
        "NV_Write(DA index, right password)",
        &Cmd::new(cc::NV_WRITE)
            .handle(da)
            .handle(da)
            .pw(b"secret")
            .b2(b"da")
            .u16(0),
    );
    p.err(
        "NV_Read(DA index, wrong password)",
        &Cmd::new(cc::NV_READ)
            .handle(da)
            .handle(da)
            .pw(b"wrong")
            .u16(2)
            .u16(0),
    );
    p.ok(
        "NV_Read(DA index, right password)",
        &Cmd::new(cc::NV_READ)
            .handle(da)
            .handle(da)
            .pw(b"secret")
            .u16(2)
            .u16(0),
    );
    p.ok(
        "NV_UndefineSpace(DA index)",
        &Cmd::new(cc::NV_UNDEFINESPACE)
            .handle(rh::OWNER)
            .handle(da)
            .pw(b""),
    );
    // Counter.
    let ctr = 0x0150_0300;
    p.ok(
        "NV_DefineSpace(counter)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(ctr, alg::SHA256, rw | nva::COUNTER, b"", 8),
        ),
    );
    nv_read_public(&mut p, "NV_ReadPublic(counter) before increment", ctr);
    p.err("NV_Read(counter) before increment", &nv_read(ctr, 8, 0));
    p.err("NV_Write(counter)", &nv_write(ctr, &[0; 8], 0));
    for i in 0..3 {
        p.ok(
            &format!("NV_Increment #{i}"),
            &Cmd::new(cc::NV_INCREMENT).handle(ctr).handle(ctr).pw(b""),
        );
        p.ok(
            &format!("NV_Read(counter) after increment #{i}"),
            &nv_read(ctr, 8, 0),
        );
    }
    nv_read_public(&mut p, "NV_ReadPublic(counter) after increments", ctr);
    p.err(
        "NV_DefineSpace(counter of 4 octets)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(ctr + 1, alg::SHA256, rw | nva::COUNTER, b"", 4),
        ),
    );
    // Bits.
    let bits = 0x0150_0400;
    p.ok(
        "NV_DefineSpace(bits)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(bits, alg::SHA256, rw | nva::BITS, b"", 8),
        ),
    );
    p.err("NV_Read(bits) before SetBits", &nv_read(bits, 8, 0));
    for v in [0x0000_0000_0000_0001u64, 0x8000_0000_0000_0100, 0] {
        p.ok(
            &format!("NV_SetBits({v:#x})"),
            &Cmd::new(cc::NV_SETBITS)
                .handle(bits)
                .handle(bits)
                .pw(b"")
                .u64(v),
        );
        p.ok(&format!("NV_Read(bits) after {v:#x}"), &nv_read(bits, 8, 0));
    }
    nv_read_public(&mut p, "NV_ReadPublic(bits)", bits);
    p.err(
        "NV_Increment(bits index)",
        &Cmd::new(cc::NV_INCREMENT).handle(bits).handle(bits).pw(b""),
    );
    // Extend, with each nameAlg.
    for (i, name_alg) in NAME_ALGS.into_iter().enumerate() {
        let ext = 0x0150_0500 + i as u32;
        let n = alg_name(name_alg);
        let size = digest_len(name_alg) as u16;
        p.ok(
            &format!("NV_DefineSpace(extend {n})"),
            &nv_define(
                rh::OWNER,
                b"",
                &nv_public(ext, name_alg, rw | nva::EXTEND, b"", size),
            ),
        );
        p.err(
            &format!("NV_Read(extend {n}) before extend"),
            &nv_read(ext, size, 0),
        );
        for data in [&b"first"[..], &[0x55; 1024][..], b""] {
            p.ok(
                &format!("NV_Extend({n}, {} octets)", data.len()),
                &Cmd::new(cc::NV_EXTEND)
                    .handle(ext)
                    .handle(ext)
                    .pw(b"")
                    .b2(data),
            );
            p.ok(&format!("NV_Read(extend {n})"), &nv_read(ext, size, 0));
        }
        nv_read_public(&mut p, &format!("NV_ReadPublic(extend {n})"), ext);
        p.err(&format!("NV_Write(extend {n})"), &nv_write(ext, &[0; 4], 0));
        p.err(
            &format!("NV_DefineSpace(extend {n} of the wrong size)"),
            &nv_define(
                rh::OWNER,
                b"",
                &nv_public(ext + 0x10, name_alg, rw | nva::EXTEND, b"", size + 1),
            ),
        );
    }
    // Definitions that must be refused.
    let bad = 0x0150_0600;
    for (what, public, auth) in [
        (
            "no read attribute",
            nv_public(bad, alg::SHA256, nva::OWNERWRITE, b"", 8),
            &b""[..],
        ),
        (
            "no write attribute",
            nv_public(bad, alg::SHA256, nva::OWNERREAD, b"", 8),
            b"",
        ),
        (
            "size above NV_INDEX_MAX",
            nv_public(bad, alg::SHA256, rw, b"", 2049),
            b"",
        ),
        (
            "WRITTEN set",
            nv_public(bad, alg::SHA256, rw | nva::WRITTEN, b"", 8),
            b"",
        ),
        (
            "WRITELOCKED set",
            nv_public(bad, alg::SHA256, rw | nva::WRITELOCKED, b"", 8),
            b"",
        ),
        (
            "READLOCKED set",
            nv_public(bad, alg::SHA256, rw | nva::READLOCKED, b"", 8),
            b"",
        ),
        (
            "PLATFORMCREATE by owner",
            nv_public(bad, alg::SHA256, rw | nva::PLATFORMCREATE, b"", 8),
            b"",
        ),
        (
            "POLICY_DELETE by owner",
            nv_public(bad, alg::SHA256, rw | nva::POLICY_DELETE, b"", 8),
            b"",
        ),
        (
            "unknown TPM_NT (3)",
            nv_public(bad, alg::SHA256, rw | (3 << 4), b"", 8),
            b"",
        ),
        (
            "PIN_FAIL without NO_DA",
            nv_public(bad, alg::SHA256, (rw & !nva::NO_DA) | nva::PIN_FAIL, b"", 8),
            b"",
        ),
        ("nameAlg NULL", nv_public(bad, alg::NULL, rw, b"", 8), b""),
        (
            "authPolicy of the wrong size",
            nv_public(bad, alg::SHA256, rw, &[1; 20], 8),
            b"",
        ),
        (
            "authValue longer than the nameAlg digest",
            nv_public(bad, alg::SHA1, rw, b"", 8),
            &[7u8; 21][..],
        ),
        (
            "handle outside the NV range",
            nv_public(0x8100_0000, alg::SHA256, rw, b"", 8),
            b"",
        ),
        (
            "platform-range handle by owner",
            nv_public(0x0140_0000, alg::SHA256, rw, b"", 8),
            b"",
        ),
        (
            "COUNTER with CLEAR_STCLEAR",
            nv_public(
                bad,
                alg::SHA256,
                rw | nva::COUNTER | nva::CLEAR_STCLEAR,
                b"",
                8,
            ),
            b"",
        ),
        (
            "GLOBALLOCK with WRITEDEFINE",
            nv_public(
                bad,
                alg::SHA256,
                rw | nva::GLOBALLOCK | nva::WRITEDEFINE,
                b"",
                8,
            ),
            b"",
        ),
    ] {
        let both = p.exec(
            &format!("NV_DefineSpace({what})"),
            &nv_define(rh::OWNER, auth, &public),
        );
        if both.a.rc == 0 || both.b.rc == 0 {
            let index = u32::from_be_bytes([public[0], public[1], public[2], public[3]]);
            p.exec(
                &format!("NV_UndefineSpace after NV_DefineSpace({what})"),
                &Cmd::new(cc::NV_UNDEFINESPACE)
                    .handle(rh::OWNER)
                    .handle(index)
                    .pw(b""),
            );
        }
    }
    // An ordinary index of size 0.
    p.ok(
        "NV_DefineSpace(ordinary, size 0)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(0x0150_0800, alg::SHA256, rw, b"", 0),
        ),
    );
    nv_read_public(&mut p, "NV_ReadPublic(size 0)", 0x0150_0800);
    p.exec("NV_Write(size 0, empty)", &nv_write(0x0150_0800, b"", 0));
    p.exec("NV_Read(size 0, empty)", &nv_read(0x0150_0800, 0, 0));
    // Defining twice; reading and undefining what is not there.
    p.err(
        "NV_DefineSpace(existing index)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(0x0150_0100, alg::SHA256, rw, b"", 8),
        ),
    );
    p.err("NV_Read(undefined index)", &nv_read(0x0150_0fff, 1, 0));
    p.err(
        "NV_ReadPublic(undefined index)",
        &Cmd::new(cc::NV_READPUBLIC).handle(0x0150_0fff),
    );
    p.err(
        "NV_UndefineSpace(undefined index)",
        &Cmd::new(cc::NV_UNDEFINESPACE)
            .handle(rh::OWNER)
            .handle(0x0150_0fff)
            .pw(b""),
    );
    // Write lock.
    let wl = 0x0150_0700;
    p.ok(
        "NV_DefineSpace(write-define lockable)",
        &nv_define(
            rh::OWNER,
            b"",
            &nv_public(wl, alg::SHA256, rw | nva::WRITEDEFINE, b"", 8),
        ),
    );
    p.ok("NV_Write(lockable)", &nv_write(wl, &[9; 8], 0));
    p.ok(
        "NV_WriteLock",
        &Cmd::new(cc::NV_WRITELOCK).handle(wl).handle(wl).pw(b""),
    );
    nv_read_public(&mut p, "NV_ReadPublic(write locked)", wl);
    p.err("NV_Write(write locked)", &nv_write(wl, &[1; 8], 0));
    // Undefine, then the name is gone.
    p.ok(
        "NV_UndefineSpace(ordinary)",
        &Cmd::new(cc::NV_UNDEFINESPACE)
            .handle(rh::OWNER)
            .handle(0x0150_0100)
            .pw(b""),
    );
    p.err(
        "NV_ReadPublic(after undefine)",
        &Cmd::new(cc::NV_READPUBLIC).handle(0x0150_0100),
    );
    // Indices and their state survive a restart.
    p.ok("Shutdown(CLEAR)", &shutdown(0));
    p.restart();
    p.ok("Startup(CLEAR)", &startup(0));
    nv_read_public(&mut p, "NV_ReadPublic(counter) after restart", ctr);
    p.ok("NV_Read(counter) after restart", &nv_read(ctr, 8, 0));
    p.ok(
        "NV_Read(extend SHA-256) after restart",
        &nv_read(0x0150_0501, 32, 0),
    );
    nv_read_public(
        &mut p,
        "NV_ReadPublic(write-define locked) after restart",
        wl,
    );
    p.finish();
}

// ---------------------------------------------------------------------
// Symmetric encryption with loaded external keys
// ---------------------------------------------------------------------

/// LoadExternal of an AES key (`bits`, key mode `mode`), NULL hierarchy.
fn load_aes(key: &[u8], bits: u16, mode: u16, attrs: u32) -> Cmd {
    let public = symcipher_public(
        alg::SHA256,
        attrs | oa::USER_WITH_AUTH | oa::NO_DA,
        b"",
        &sym_def(alg::AES, bits, mode),
        &sha256(&cat(&[&SEED, key])),
    );
    load_external(
        &sensitive(alg::SYMCIPHER, b"", &SEED, key),
        &public,
        rh::NULL,
    )
}

fn encrypt_decrypt(key: u32, decrypt: bool, mode: u16, iv: &[u8], data: &[u8]) -> Cmd {
    Cmd::new(cc::ENCRYPTDECRYPT)
        .handle(key)
        .pw(b"")
        .u8(u8::from(decrypt))
        .u16(mode)
        .b2(iv)
        .b2(data)
}

fn encrypt_decrypt2(key: u32, decrypt: bool, mode: u16, iv: &[u8], data: &[u8]) -> Cmd {
    Cmd::new(cc::ENCRYPTDECRYPT2)
        .handle(key)
        .pw(b"")
        .b2(data)
        .u8(u8::from(decrypt))
        .u16(mode)
        .b2(iv)
}

const MODES: [(u16, &str); 5] = [
    (alg::CFB, "CFB"),
    (alg::CTR, "CTR"),
    (alg::OFB, "OFB"),
    (alg::CBC, "CBC"),
    (alg::ECB, "ECB"),
];

#[test]
fn symmetric_encrypt_decrypt_all_modes() {
    let mut p = Pair::new("symmetric_encrypt_decrypt_all_modes");
    let iv: Vec<u8> = (0..16).collect();
    let block_data: Vec<u8> = (0..1024u32).map(|i| (i * 31) as u8).collect();
    for bits in [128u16, 256] {
        let key: Vec<u8> = (0..bits / 8).map(|i| (i as u8).wrapping_mul(17)).collect();
        let k = p.ok(
            &format!("LoadExternal(AES-{bits}, any mode)"),
            &load_aes(&key, bits, alg::NULL, oa::DECRYPT | oa::SIGN),
        );
        let Some(kh) = k.a.handle else { continue };
        for (mode, mname) in MODES {
            for (dname, data) in [
                ("16 octets", &block_data[..16]),
                ("1024 octets", &block_data[..]),
                ("33 octets", &block_data[..33]),
                ("empty", &block_data[..0]),
            ] {
                for decrypt in [false, true] {
                    let dir = if decrypt { "decrypt" } else { "encrypt" };
                    let iv_for = if mode == alg::ECB { &[][..] } else { &iv[..] };
                    let what = format!("EncryptDecrypt(AES-{bits} {mname} {dir} {dname})");
                    p.same(&what, &encrypt_decrypt(kh, decrypt, mode, iv_for, data));
                    p.same(
                        &format!("{what} via EncryptDecrypt2"),
                        &encrypt_decrypt2(kh, decrypt, mode, iv_for, data),
                    );
                }
            }
            // IV edge cases.
            p.exec(
                &format!("EncryptDecrypt(AES-{bits} {mname}, empty IV)"),
                &encrypt_decrypt(kh, false, mode, b"", &block_data[..16]),
            );
            p.exec(
                &format!("EncryptDecrypt(AES-{bits} {mname}, 15-octet IV)"),
                &encrypt_decrypt(kh, false, mode, &iv[..15], &block_data[..16]),
            );
            p.exec(
                &format!("EncryptDecrypt(AES-{bits} {mname}, 17-octet IV)"),
                &encrypt_decrypt(kh, false, mode, &[7; 17], &block_data[..16]),
            );
        }
        // The key's mode is used when the command says NULL; a key with no
        // mode and a command with NULL is an error.
        p.exec(
            &format!("EncryptDecrypt(AES-{bits}, mode NULL, key mode NULL)"),
            &encrypt_decrypt(kh, false, alg::NULL, &iv, &block_data[..16]),
        );
        p.exec(
            &format!("EncryptDecrypt(AES-{bits}, mode XOR)"),
            &encrypt_decrypt(kh, false, alg::XOR, &iv, &block_data[..16]),
        );
        p.exec(
            &format!("EncryptDecrypt(AES-{bits}, mode SHA256)"),
            &encrypt_decrypt(kh, false, alg::SHA256, &iv, &block_data[..16]),
        );
        p.exec(
            &format!("EncryptDecrypt(AES-{bits}, 1025 octets)"),
            &encrypt_decrypt2(kh, false, alg::CFB, &iv, &[0; 1025]),
        );
        p.ok("FlushContext(AES key)", &flush(kh));
    }
    // A key with a fixed mode.
    let key = [0x42u8; 16];
    let k = p.ok(
        "LoadExternal(AES-128 CBC key)",
        &load_aes(&key, 128, alg::CBC, oa::DECRYPT | oa::SIGN),
    );
    if let Some(kh) = k.a.handle {
        p.same(
            "EncryptDecrypt(CBC key, mode NULL)",
            &encrypt_decrypt(kh, false, alg::NULL, &iv, &block_data[..32]),
        );
        p.same(
            "EncryptDecrypt(CBC key, mode CBC)",
            &encrypt_decrypt(kh, false, alg::CBC, &iv, &block_data[..32]),
        );
        p.exec(
            "EncryptDecrypt(CBC key, mode CFB)",
            &encrypt_decrypt(kh, false, alg::CFB, &iv, &block_data[..32]),
        );
        p.ok("FlushContext(CBC key)", &flush(kh));
    }
    // Attributes: encryption needs sign? decryption needs decrypt?
    for (what, attrs) in [
        ("decrypt only", oa::DECRYPT),
        ("sign only", oa::SIGN),
        ("neither", 0),
    ] {
        let k = p.exec(
            &format!("LoadExternal(AES-128, {what})"),
            &load_aes(&key, 128, alg::CFB, attrs),
        );
        match (k.a.handle, k.b.rc) {
            (Some(kh), 0) => {
                p.same(
                    &format!("EncryptDecrypt(encrypt, key {what})"),
                    &encrypt_decrypt(kh, false, alg::CFB, &iv, &block_data[..16]),
                );
                p.same(
                    &format!("EncryptDecrypt(decrypt, key {what})"),
                    &encrypt_decrypt(kh, true, alg::CFB, &iv, &block_data[..16]),
                );
                p.ok("FlushContext(AES key)", &flush(kh));
            }
            (Some(kh), _) => {
                p.vtpm_only(&flush(kh));
            }
            _ => {}
        }
    }
    // EncryptDecrypt with a non-symmetric key.
    let k = p.ok(
        "LoadExternal(HMAC key)",
        &load_external_keyedhash(&[1; 32], alg::HMAC, alg::SHA256),
    );
    if let Some(kh) = k.a.handle {
        p.err(
            "EncryptDecrypt(HMAC key)",
            &Cmd::new(cc::ENCRYPTDECRYPT)
                .handle(kh)
                .pw(b"auth")
                .u8(0)
                .u16(alg::CFB)
                .b2(&iv)
                .b2(&block_data[..16]),
        );
        p.ok("FlushContext(HMAC key)", &flush(kh));
    }
    p.finish();
}

// ---------------------------------------------------------------------
// ECDH Z values, signatures made outside, RSA
// ---------------------------------------------------------------------

fn ecc_point(x: &[u8], y: &[u8]) -> Vec<u8> {
    sized(&cat(&[&sized(x), &sized(y)]))
}

#[test]
fn ecdh_zgen_with_known_keys() {
    let mut p = Pair::new("ecdh_zgen_with_known_keys");
    for (sname, sch) in [
        ("ECDH", scheme(alg::ECDH, alg::SHA256)),
        ("NULL", scheme(alg::NULL, 0)),
    ] {
        let public = ecc_pub(
            alg::SHA256,
            oa::DECRYPT | oa::USER_WITH_AUTH | oa::NO_DA,
            &sch,
            false,
        );
        let k = p.ok(
            &format!("LoadExternal(P-256 private, decrypt, {sname})"),
            &load_external(
                &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
                &public,
                rh::NULL,
            ),
        );
        let Some(kh) = k.a.handle else { continue };
        let z = p.ok(
            &format!("ECDH_ZGen(P-256 key 1, key 2's point, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&h(keys::EC2_X), &h(keys::EC2_Y))),
        );
        // And against OpenSSL's answer (an oracle, not a comparison).
        let mut r = z.b.reader();
        r.u16();
        assert_eq!(
            r.b2(),
            &h(keys::ECDH_Z_EC1_EC2)[..],
            "libtpms ECDH Z is OpenSSL's"
        );
        let mut r = z.a.reader();
        r.u16();
        assert_eq!(
            r.b2(),
            &h(keys::ECDH_Z_EC1_EC2)[..],
            "vtpm ECDH Z is OpenSSL's"
        );
        p.same(
            &format!("ECDH_ZGen(own point, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&h(keys::EC1_X), &h(keys::EC1_Y))),
        );
        p.exec(
            &format!("ECDH_ZGen(point not on the curve, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&[1; 32], &[2; 32])),
        );
        p.exec(
            &format!("ECDH_ZGen(P-384 sized point, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&h(keys::EC3_X), &h(keys::EC3_Y))),
        );
        p.exec(
            &format!("ECDH_ZGen(empty point, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(b"", b"")),
        );
        p.exec(
            &format!("ECDH_ZGen(point at x=0, {sname})"),
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&[0; 32], &[0; 32])),
        );
        // ECDH_KeyGen: random, compared by shape.
        let kg = p.ok_rc(
            &format!("ECDH_KeyGen(P-256, {sname})"),
            &Cmd::new(cc::ECDH_KEYGEN).handle(kh),
        );
        if kg.ok() {
            p.eq_u(
                "ECDH_KeyGen: response size",
                kg.a.params.len() as u64,
                kg.b.params.len() as u64,
            );
        }
        p.ok("FlushContext(ECDH key)", &flush(kh));
    }
    // P-384.
    let public = ecc_pub(
        alg::SHA384,
        oa::DECRYPT | oa::USER_WITH_AUTH | oa::NO_DA,
        &scheme(alg::ECDH, alg::SHA384),
        true,
    );
    let k = p.ok(
        "LoadExternal(P-384 private, decrypt)",
        &load_external(
            &sensitive(alg::ECC, b"", b"", &h(keys::EC3_D)),
            &public,
            rh::NULL,
        ),
    );
    if let Some(kh) = k.a.handle {
        p.ok(
            "ECDH_ZGen(P-384, own point)",
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&h(keys::EC3_X), &h(keys::EC3_Y))),
        );
        p.exec(
            "ECDH_ZGen(P-384 key, P-256 point)",
            &Cmd::new(cc::ECDH_ZGEN)
                .handle(kh)
                .pw(b"")
                .bytes(&ecc_point(&h(keys::EC2_X), &h(keys::EC2_Y))),
        );
        p.ok("FlushContext(P-384 key)", &flush(kh));
    }
    // A signing-only key and an ECDSA-scheme key cannot do ECDH.
    for (what, attrs, sch) in [
        ("sign-only key", oa::SIGN, scheme(alg::NULL, 0)),
        (
            "decrypt key with ECDSA scheme",
            oa::DECRYPT,
            scheme(alg::ECDSA, alg::SHA256),
        ),
    ] {
        let public = ecc_pub(
            alg::SHA256,
            attrs | oa::USER_WITH_AUTH | oa::NO_DA,
            &sch,
            false,
        );
        let k = p.exec(
            &format!("LoadExternal(P-256 private, {what})"),
            &load_external(
                &sensitive(alg::ECC, b"", b"", &h(keys::EC1_D)),
                &public,
                rh::NULL,
            ),
        );
        if let Some(kh) = k.a.handle {
            if k.b.rc == 0 {
                p.exec(
                    &format!("ECDH_ZGen({what})"),
                    &Cmd::new(cc::ECDH_ZGEN)
                        .handle(kh)
                        .pw(b"")
                        .bytes(&ecc_point(&h(keys::EC2_X), &h(keys::EC2_Y))),
                );
                p.ok("FlushContext", &flush(kh));
            } else {
                p.vtpm_only(&flush(kh));
            }
        }
    }
    p.finish();
}

/// (signature name, digest, TPMT_SIGNATURE).
type SigCase<'a> = (&'a str, Vec<u8>, Vec<u8>);
/// (key name, TPMT_PUBLIC, signatures to verify).
type KeyCases<'a> = (&'a str, Vec<u8>, Vec<SigCase<'a>>);

#[test]
fn verify_signatures_made_outside() {
    let mut p = Pair::new("verify_signatures_made_outside");
    let digest256 = h(keys::MESSAGE_SHA256);
    let digest384 = h(keys::MESSAGE_SHA384);
    let pkcs = h(keys::RSA_SIG_PKCS1_SHA256);
    let pss = h(keys::RSA_SIG_PSS_SHA256);
    let ec1 = ecdsa_signature(
        alg::SHA256,
        &h(keys::EC1_SIG_SHA256_R),
        &h(keys::EC1_SIG_SHA256_S),
    );
    let ec3 = ecdsa_signature(
        alg::SHA384,
        &h(keys::EC3_SIG_SHA384_R),
        &h(keys::EC3_SIG_SHA384_S),
    );
    let mut bad_pkcs = pkcs.clone();
    bad_pkcs[100] ^= 1;
    let mut bad_digest = digest256.clone();
    bad_digest[0] ^= 1;
    for hierarchy in [rh::NULL, rh::OWNER, rh::ENDORSEMENT, rh::PLATFORM] {
        let keys_and_sigs: [KeyCases<'_>; 4] = [
            (
                "RSA NULL scheme",
                rsa_pub(alg::SHA256, oa::SIGN, &scheme(alg::NULL, 0)),
                vec![
                    (
                        "RSASSA",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &pkcs),
                    ),
                    (
                        "RSAPSS",
                        digest256.clone(),
                        rsa_signature(alg::RSAPSS, alg::SHA256, &pss),
                    ),
                    (
                        "RSASSA, flipped signature bit",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &bad_pkcs),
                    ),
                    (
                        "RSASSA, other digest",
                        bad_digest.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &pkcs),
                    ),
                    (
                        "RSASSA with a SHA-384 hash tag",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA384, &pkcs),
                    ),
                    (
                        "RSASSA, short signature",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &pkcs[1..]),
                    ),
                    ("ECDSA signature", digest256.clone(), ec1.clone()),
                    (
                        "HMAC signature",
                        digest256.clone(),
                        cat(&[
                            &alg::HMAC.to_be_bytes(),
                            &alg::SHA256.to_be_bytes(),
                            &[0; 32],
                        ]),
                    ),
                ],
            ),
            (
                "RSA RSASSA-SHA256 scheme",
                rsa_pub(alg::SHA256, oa::SIGN, &scheme(alg::RSASSA, alg::SHA256)),
                vec![
                    (
                        "RSASSA",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &pkcs),
                    ),
                    (
                        "RSAPSS against an RSASSA key",
                        digest256.clone(),
                        rsa_signature(alg::RSAPSS, alg::SHA256, &pss),
                    ),
                ],
            ),
            (
                "P-256 NULL scheme",
                ecc_pub(alg::SHA256, oa::SIGN, &scheme(alg::NULL, 0), false),
                vec![
                    ("ECDSA", digest256.clone(), ec1.clone()),
                    ("ECDSA, other digest", bad_digest.clone(), ec1.clone()),
                    (
                        "ECDSA, r and s swapped",
                        digest256.clone(),
                        ecdsa_signature(
                            alg::SHA256,
                            &h(keys::EC1_SIG_SHA256_S),
                            &h(keys::EC1_SIG_SHA256_R),
                        ),
                    ),
                    (
                        "ECDSA, r = 0",
                        digest256.clone(),
                        ecdsa_signature(alg::SHA256, &[0; 32], &h(keys::EC1_SIG_SHA256_S)),
                    ),
                    (
                        "ECDSA, r of 33 octets",
                        digest256.clone(),
                        ecdsa_signature(alg::SHA256, &[0xff; 33], &h(keys::EC1_SIG_SHA256_S)),
                    ),
                    (
                        "ECDSA with a SHA-1 hash tag",
                        digest256.clone(),
                        ecdsa_signature(
                            alg::SHA1,
                            &h(keys::EC1_SIG_SHA256_R),
                            &h(keys::EC1_SIG_SHA256_S),
                        ),
                    ),
                    (
                        "RSASSA signature",
                        digest256.clone(),
                        rsa_signature(alg::RSASSA, alg::SHA256, &pkcs),
                    ),
                ],
            ),
            (
                "P-384 NULL scheme",
                ecc_pub(alg::SHA384, oa::SIGN, &scheme(alg::NULL, 0), true),
                vec![
                    ("ECDSA", digest384.clone(), ec3.clone()),
                    ("ECDSA, SHA-256 digest", digest256.clone(), ec3.clone()),
                ],
            ),
        ];
        for (kname, public, sigs) in keys_and_sigs {
            let k = p.ok(
                &format!("LoadExternal({kname} public, {hierarchy:#x})"),
                &load_external(b"", &public, hierarchy),
            );
            let Some(kh) = k.a.handle else { continue };
            for (sname, digest, sig) in sigs {
                let what =
                    format!("VerifySignature({kname} key, {sname}, hierarchy {hierarchy:#x})");
                let both = p.exec(
                    &what,
                    &Cmd::new(cc::VERIFYSIGNATURE)
                        .handle(kh)
                        .b2(&digest)
                        .bytes(&sig),
                );
                if both.ok() {
                    let (mut a, mut b) = (both.a.reader(), both.b.reader());
                    p.ticket(&what, &mut a, &mut b);
                }
            }
            p.ok("FlushContext(verification key)", &flush(kh));
        }
    }
    p.finish();
}

#[test]
fn rsa_raw_encrypt_decrypt_and_deterministic_signatures() {
    let mut p = Pair::new("rsa_raw_encrypt_decrypt_and_deterministic_signatures");
    let n = rsa_n();
    let public_dec = rsa_pub(
        alg::SHA256,
        oa::DECRYPT | oa::SIGN | oa::USER_WITH_AUTH | oa::NO_DA,
        &scheme(alg::NULL, 0),
    );
    let k = p.ok(
        "LoadExternal(RSA public, NULL scheme)",
        &load_external(b"", &public_dec, rh::NULL),
    );
    let kp = p.ok(
        "LoadExternal(RSA private, NULL scheme)",
        &load_external(
            &sensitive(alg::RSA, b"", b"", &h(keys::RSA_P)),
            &public_dec,
            rh::NULL,
        ),
    );
    let (Some(kh), Some(kph)) = (k.a.handle, kp.a.handle) else {
        panic!("harness: RSA keys did not load on vtpm");
    };
    let mut msg = vec![0u8; 256];
    msg[1] = 0x42;
    msg[255] = 0x99;
    let rsa_encrypt = |key: u32, data: &[u8], sch: &[u8], label: &[u8]| {
        Cmd::new(cc::RSA_ENCRYPT)
            .handle(key)
            .b2(data)
            .bytes(sch)
            .b2(label)
    };
    let rsa_decrypt = |key: u32, data: &[u8], sch: &[u8], label: &[u8]| {
        Cmd::new(cc::RSA_DECRYPT)
            .handle(key)
            .pw(b"")
            .b2(data)
            .bytes(sch)
            .b2(label)
    };
    let null = scheme(alg::NULL, 0);
    // Raw RSA: deterministic.
    for (what, data) in [
        ("256 octets", msg.clone()),
        ("short message (left-padded)", vec![1, 2, 3]),
        ("empty", vec![]),
        ("the modulus itself", n.clone()),
        ("above the modulus", vec![0xff; 256]),
        ("257 octets", vec![1; 257]),
    ] {
        p.same(
            &format!("RSA_Encrypt(NULL scheme, {what})"),
            &rsa_encrypt(kh, &data, &null, b""),
        );
        p.same(
            &format!("RSA_Decrypt(NULL scheme, {what})"),
            &rsa_decrypt(kph, &data, &null, b""),
        );
    }
    // Padded schemes: random ciphertexts; each side decrypts what vtpm
    // encrypted, and the plaintexts are compared.
    for (sname, sch, label) in [
        (
            "OAEP-SHA256",
            scheme(alg::OAEP, alg::SHA256),
            &b"label\0"[..],
        ),
        ("OAEP-SHA1", scheme(alg::OAEP, alg::SHA1), &b""[..]),
        ("RSAES", alg::RSAES.to_be_bytes().to_vec(), &b""[..]),
    ] {
        let ct = p.ok_rc(
            &format!("RSA_Encrypt({sname})"),
            &rsa_encrypt(kh, b"secret message", &sch, label),
        );
        if !ct.ok() {
            continue;
        }
        p.eq_u(
            &format!("RSA_Encrypt({sname}): size"),
            ct.a.params.len() as u64,
            ct.b.params.len() as u64,
        );
        let c = ct.a.reader().b2().to_vec();
        p.ok(
            &format!("RSA_Decrypt({sname}) of vtpm's ciphertext"),
            &rsa_decrypt(kph, &c, &sch, label),
        );
        let c = ct.b.reader().b2().to_vec();
        p.ok(
            &format!("RSA_Decrypt({sname}) of libtpms's ciphertext"),
            &rsa_decrypt(kph, &c, &sch, label),
        );
        p.exec(
            &format!("RSA_Decrypt({sname}) with the wrong label"),
            &rsa_decrypt(kph, &c, &sch, b"other\0"),
        );
        p.exec(
            &format!("RSA_Decrypt({sname}) of garbage"),
            &rsa_decrypt(kph, &[0x17; 256], &sch, label),
        );
    }
    p.exec(
        "RSA_Encrypt(OAEP, label without NUL)",
        &rsa_encrypt(kh, b"m", &scheme(alg::OAEP, alg::SHA256), b"label"),
    );
    p.exec(
        "RSA_Encrypt(OAEP-SHA512, too long message)",
        &rsa_encrypt(kh, &[1; 200], &scheme(alg::OAEP, alg::SHA512), b""),
    );
    p.exec(
        "RSA_Encrypt(RSASSA scheme)",
        &rsa_encrypt(kh, b"m", &scheme(alg::RSASSA, alg::SHA256), b""),
    );
    // RSASSA signatures are deterministic: both TPMs and OpenSSL agree.
    let digest = h(keys::MESSAGE_SHA256);
    let sign = |sch: &[u8], d: &[u8]| {
        Cmd::new(cc::SIGN)
            .handle(kph)
            .pw(b"")
            .b2(d)
            .bytes(sch)
            .u16(0x8024)
            .u32(rh::NULL)
            .b2(b"")
    };
    let both = p.ok(
        "Sign(RSASSA-SHA256)",
        &sign(&scheme(alg::RSASSA, alg::SHA256), &digest),
    );
    let mut r = both.a.reader();
    r.take(4);
    assert_eq!(
        r.b2(),
        &h(keys::RSA_SIG_PKCS1_SHA256)[..],
        "vtpm's RSASSA signature is OpenSSL's"
    );
    p.ok(
        "Sign(RSASSA-SHA1)",
        &sign(&scheme(alg::RSASSA, alg::SHA1), &digest[..20]),
    );
    p.ok(
        "Sign(RSASSA-SHA384)",
        &sign(&scheme(alg::RSASSA, alg::SHA384), &[7; 48]),
    );
    p.exec(
        "Sign(RSASSA-SHA256, digest of 20 octets)",
        &sign(&scheme(alg::RSASSA, alg::SHA256), &digest[..20]),
    );
    let pss = p.ok_rc(
        "Sign(RSAPSS-SHA256)",
        &sign(&scheme(alg::RSAPSS, alg::SHA256), &digest),
    );
    if pss.ok() {
        p.eq_u(
            "Sign(RSAPSS): size",
            pss.a.params.len() as u64,
            pss.b.params.len() as u64,
        );
        // Each TPM verifies the other's PSS signature.
        p.exec2(
            "VerifySignature(vtpm verifies libtpms's PSS signature, and back)",
            &Cmd::new(cc::VERIFYSIGNATURE)
                .handle(kh)
                .b2(&digest)
                .bytes(&pss.b.params),
            &Cmd::new(cc::VERIFYSIGNATURE)
                .handle(p.map(kh))
                .b2(&digest)
                .bytes(&pss.a.params),
        );
    }
    p.exec(
        "Sign(NULL scheme with a NULL-scheme key)",
        &sign(&null, &digest),
    );
    p.exec(
        "Sign(ECDSA with an RSA key)",
        &sign(&scheme(alg::ECDSA, alg::SHA256), &digest),
    );
    p.ok("FlushContext", &flush(kh));
    p.ok("FlushContext", &flush(kph));
    p.finish();
}

// ---------------------------------------------------------------------
// CreatePrimary, Create, Load, Unseal: the shape of what is random
// ---------------------------------------------------------------------

/// A template and the length of its trailing `unique` field.
struct Template {
    name: &'static str,
    public: Vec<u8>,
    unique_len: usize,
}

fn templates() -> Vec<Template> {
    let aes128cfb = sym_def(alg::AES, 128, alg::CFB);
    let null_sym = sym_def(alg::NULL, 0, 0);
    let null = scheme(alg::NULL, 0);
    let rsa = |name, attrs, sym: &[u8], sch: &[u8], bits| Template {
        name,
        public: rsa_public(alg::SHA256, attrs, b"", sym, sch, bits, 0, b""),
        unique_len: 2,
    };
    let ecc = |name, attrs, sym: &[u8], sch: &[u8], c| Template {
        name,
        public: ecc_public(alg::SHA256, attrs, b"", sym, sch, c, b"", b""),
        unique_len: 4,
    };
    vec![
        rsa(
            "RSA-2048 storage",
            oa::STORAGE | oa::NO_DA,
            &aes128cfb,
            &null,
            2048,
        ),
        rsa(
            "RSA-2048 restricted signing",
            oa::KEY | oa::RESTRICTED | oa::SIGN,
            &null_sym,
            &scheme(alg::RSASSA, alg::SHA256),
            2048,
        ),
        rsa(
            "RSA-2048 signing and decryption",
            oa::KEY | oa::SIGN | oa::DECRYPT,
            &null_sym,
            &null,
            2048,
        ),
        rsa(
            "RSA-3072 storage",
            oa::STORAGE,
            &sym_def(alg::AES, 256, alg::CFB),
            &null,
            3072,
        ),
        ecc(
            "P-256 storage",
            oa::STORAGE | oa::NO_DA,
            &aes128cfb,
            &null,
            curve::NIST_P256,
        ),
        ecc(
            "P-256 restricted ECDSA",
            oa::KEY | oa::RESTRICTED | oa::SIGN,
            &null_sym,
            &scheme(alg::ECDSA, alg::SHA256),
            curve::NIST_P256,
        ),
        ecc(
            "P-256 ECDH",
            oa::KEY | oa::DECRYPT,
            &null_sym,
            &scheme(alg::ECDH, alg::SHA256),
            curve::NIST_P256,
        ),
        ecc(
            "P-384 storage",
            oa::STORAGE,
            &sym_def(alg::AES, 256, alg::CFB),
            &null,
            curve::NIST_P384,
        ),
        Template {
            name: "HMAC key",
            public: keyedhash_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                b"",
            ),
            unique_len: 2,
        },
        Template {
            name: "AES-128 CFB key",
            public: symcipher_public(
                alg::SHA256,
                oa::KEY | oa::SIGN | oa::DECRYPT,
                b"",
                &aes128cfb,
                b"",
            ),
            unique_len: 2,
        },
        Template {
            name: "SHA-384 named AES-256 key",
            public: symcipher_public(
                alg::SHA384,
                oa::KEY | oa::DECRYPT,
                b"",
                &sym_def(alg::AES, 256, alg::CFB),
                b"",
            ),
            unique_len: 2,
        },
    ]
}

/// Compare the outputs of CreatePrimary or Create that do not depend on
/// the seed: the public area up to `unique`, sizes, creation data.
fn compare_creation(
    p: &mut Pair,
    what: &str,
    both: &vtpm_difftest::Both,
    template: &Template,
    primary: bool,
) {
    let (mut a, mut b) = (both.a.reader(), both.b.reader());
    if !primary {
        let (pa, pb) = (a.b2(), b.b2());
        p.eq_u(
            &format!("{what}: outPrivate size"),
            pa.len() as u64,
            pb.len() as u64,
        );
    }
    let (pa, pb) = (a.b2(), b.b2());
    let prefix = template.public.len() - template.unique_len;
    p.eq(
        &format!("{what}: outPublic up to unique"),
        pa.get(..prefix).unwrap_or(pa),
        pb.get(..prefix).unwrap_or(pb),
    );
    p.eq_u(
        &format!("{what}: outPublic size"),
        pa.len() as u64,
        pb.len() as u64,
    );
    let (ca, cb) = (a.b2(), b.b2());
    if primary {
        // TPMS_CREATION_DATA of a primary: PCR selection and digest,
        // locality, parent (the hierarchy), outsideInfo: all known.
        p.eq(&format!("{what}: creationData"), ca, cb);
    } else {
        // The parent's name differs (a primary from each TPM's seed).
        let (mut x, mut y) = (Reader::new(ca), Reader::new(cb));
        let sel = |r: &mut Reader<'_>| {
            let n = r.u32();
            let mut v = n.to_be_bytes().to_vec();
            for _ in 0..n {
                v.extend_from_slice(r.take(3));
                let s = r.u8();
                v.push(s);
                v.extend_from_slice(r.take(usize::from(s)));
            }
            v
        };
        p.eq(
            &format!("{what}: creationData.pcrSelect"),
            &sel(&mut x),
            &sel(&mut y),
        );
        p.eq(&format!("{what}: creationData.pcrDigest"), x.b2(), y.b2());
        p.eq_u(
            &format!("{what}: creationData.locality"),
            x.u8().into(),
            y.u8().into(),
        );
        p.eq_u(
            &format!("{what}: creationData.parentNameAlg"),
            x.u16().into(),
            y.u16().into(),
        );
        p.eq_u(
            &format!("{what}: creationData.parentName size"),
            x.b2().len() as u64,
            y.b2().len() as u64,
        );
        p.eq_u(
            &format!("{what}: creationData.parentQualifiedName size"),
            x.b2().len() as u64,
            y.b2().len() as u64,
        );
        p.eq(&format!("{what}: creationData.outsideInfo"), x.b2(), y.b2());
    }
    let (ha, hb) = (a.b2(), b.b2());
    if primary {
        p.eq(&format!("{what}: creationHash"), ha, hb);
    } else {
        p.eq_u(
            &format!("{what}: creationHash size"),
            ha.len() as u64,
            hb.len() as u64,
        );
    }
    p.ticket(what, &mut a, &mut b);
    if primary {
        let (na, nb) = (a.b2(), b.b2());
        p.eq_u(
            &format!("{what}: name size"),
            na.len() as u64,
            nb.len() as u64,
        );
        p.eq(
            &format!("{what}: name algorithm"),
            na.get(..2).unwrap_or_default(),
            nb.get(..2).unwrap_or_default(),
        );
    }
}

fn create_cmd(parent: u32, template: &[u8], sensitive_auth: &[u8], data: &[u8]) -> Cmd {
    Cmd::new(cc::CREATE)
        .handle(parent)
        .pw(b"")
        .bytes(&sensitive_create(sensitive_auth, data))
        .b2(template)
        .b2(b"outside")
        .bytes(&pcr_selection(&[(alg::SHA256, &[0, 1])]))
}

#[test]
fn create_primary_create_load_shapes() {
    let mut p = Pair::new("create_primary_create_load_shapes");
    p.ok(
        "PCR_Extend(0) before creation",
        &pcr_extend(0, &digest_values(&HASHES, 9)),
    );
    for hierarchy in [rh::OWNER, rh::ENDORSEMENT, rh::PLATFORM, rh::NULL] {
        for t in templates() {
            let what = format!("CreatePrimary({}, {hierarchy:#x})", t.name);
            let cmd = Cmd::new(cc::CREATEPRIMARY)
                .handle(hierarchy)
                .pw(b"")
                .bytes(&sensitive_create(b"pw", b""))
                .b2(&t.public)
                .b2(b"outside info")
                .bytes(&pcr_selection(&[(alg::SHA256, &[0, 1]), (alg::SHA1, &[2])]));
            let both = p.ok_rc(&what, &cmd);
            if both.ok() {
                compare_creation(&mut p, &what, &both, &t, true);
            }
            let Some(h) = both.a.handle else { continue };
            let rp = p.ok_rc(
                &format!("ReadPublic({what})"),
                &Cmd::new(cc::READPUBLIC).handle(h),
            );
            if rp.ok() {
                p.eq_u(
                    &format!("ReadPublic({what}): size"),
                    rp.a.params.len() as u64,
                    rp.b.params.len() as u64,
                );
            }
            p.ok(&format!("FlushContext({what})"), &flush(h));
        }
    }
    // Children of a storage primary.
    // (libtpms has 3 object slots, and Create needs one for itself.)
    let sp = p.ok_rc(
        "CreatePrimary(RSA-2048 storage, owner) as parent",
        &create_primary(rh::OWNER, b"", &templates()[0].public),
    );
    let ep = p.ok_rc(
        "CreatePrimary(P-256 storage, owner) as parent",
        &create_primary(rh::OWNER, b"", &templates()[4].public),
    );
    let (Some(sp), Some(ep)) = (sp.a.handle, ep.a.handle) else {
        panic!("harness: primaries not created on vtpm");
    };
    let sealed = || Template {
        name: "sealed data",
        public: keyedhash_public(
            alg::SHA256,
            oa::FIXED_TPM | oa::FIXED_PARENT | oa::USER_WITH_AUTH | oa::NO_DA,
            b"",
            &scheme(alg::NULL, 0),
            b"",
        ),
        unique_len: 2,
    };
    for (pname, parent) in [("RSA parent", sp), ("ECC parent", ep)] {
        for t in templates().into_iter().chain(std::iter::once(sealed())) {
            let what = format!("Create({} under the {pname})", t.name);
            let data: &[u8] = if t.name == "sealed data" {
                b"the sealed secret"
            } else {
                b""
            };
            // (A storage child with fixedParent must match its parent's
            // symmetric definition and nameAlg: Part 3, 12.1.)
            let both = p.exec(&what, &create_cmd(parent, &t.public, b"child", data));
            if !both.ok() {
                continue;
            }
            compare_creation(&mut p, &what, &both, &t, false);
            let (mut a, mut b) = (both.a.reader(), both.b.reader());
            let (priv_a, priv_b) = (a.b2_raw().to_vec(), b.b2_raw().to_vec());
            let (pub_a, pub_b) = (a.b2_raw().to_vec(), b.b2_raw().to_vec());
            let load = |priv_: &[u8], pub_: &[u8], parent: u32| {
                Cmd::new(cc::LOAD)
                    .handle(parent)
                    .pw(b"")
                    .bytes(priv_)
                    .bytes(pub_)
            };
            let mapped = p.map(parent);
            let l = p.exec2(
                &format!("Load({what})"),
                &load(&priv_a, &pub_a, parent),
                &load(&priv_b, &pub_b, mapped),
            );
            let Some(child) = l.a.handle else { continue };
            if t.name == "sealed data" {
                p.ok(
                    &format!("Unseal({what})"),
                    &Cmd::new(cc::UNSEAL).handle(child).pw(b"child"),
                );
                p.err(
                    &format!("Unseal({what}) with the wrong password"),
                    &Cmd::new(cc::UNSEAL).handle(child).pw(b"wrong"),
                );
            } else {
                p.err(
                    &format!("Unseal({what}) of a key"),
                    &Cmd::new(cc::UNSEAL).handle(child).pw(b"child"),
                );
            }
            p.ok(&format!("FlushContext(loaded {what})"), &flush(child));
            // The other TPM's blobs do not load (integrity).
            p.exec2(
                &format!("Load({what}) of the other TPM's private blob"),
                &load(&priv_b, &pub_a, parent),
                &load(&priv_a, &pub_b, mapped),
            );
            // A blob under the wrong parent.
            let other = if parent == sp { ep } else { sp };
            let mapped_other = p.map(other);
            p.exec2(
                &format!("Load({what}) under the wrong parent"),
                &load(&priv_a, &pub_a, other),
                &load(&priv_b, &pub_b, mapped_other),
            );
        }
    }
    // A signing key is not a parent.
    p.ok("FlushContext(ECC parent)", &flush(ep));
    let sig = p.ok_rc(
        "CreatePrimary(P-256 restricted ECDSA, owner) as a non-parent",
        &create_primary(rh::OWNER, b"", &templates()[5].public),
    );
    let sig = sig.a.handle.unwrap_or(0);
    p.err(
        "Create under a signing key",
        &create_cmd(sig, &templates()[8].public, b"", b""),
    );
    p.ok("FlushContext(signing key)", &flush(sig));
    p.err(
        "Create under a hierarchy handle",
        &create_cmd(rh::OWNER, &templates()[8].public, b"", b""),
    );
    p.err(
        "Create under a non-loaded handle",
        &create_cmd(0x80ff_fff0, &templates()[8].public, b"", b""),
    );
    // Templates that must be refused.
    let aes128cfb = sym_def(alg::AES, 128, alg::CFB);
    let null_sym = sym_def(alg::NULL, 0, 0);
    let null = scheme(alg::NULL, 0);
    let ecdsa = scheme(alg::ECDSA, alg::SHA256);
    let bad: Vec<(&str, Vec<u8>, &[u8])> = vec![
        (
            "restricted, decrypt and sign",
            rsa_public(
                alg::SHA256,
                oa::STORAGE | oa::SIGN,
                b"",
                &aes128cfb,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "fixedTPM without fixedParent",
            rsa_public(
                alg::SHA256,
                (oa::STORAGE) & !oa::FIXED_PARENT,
                b"",
                &aes128cfb,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "storage key without symmetric",
            rsa_public(
                alg::SHA256,
                oa::STORAGE,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "storage key with a scheme",
            rsa_public(
                alg::SHA256,
                oa::STORAGE,
                b"",
                &aes128cfb,
                &scheme(alg::OAEP, alg::SHA256),
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "unrestricted decrypt with symmetric",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::DECRYPT,
                b"",
                &aes128cfb,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "restricted signing without scheme",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::RESTRICTED | oa::SIGN,
                b"",
                &null_sym,
                &null,
                curve::NIST_P256,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "signing key with ECDH scheme",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &scheme(alg::ECDH, alg::SHA256),
                curve::NIST_P256,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "decrypt key with ECDSA scheme",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::DECRYPT,
                b"",
                &null_sym,
                &ecdsa,
                curve::NIST_P256,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "neither sign nor decrypt (RSA)",
            rsa_public(alg::SHA256, oa::KEY, b"", &null_sym, &null, 2048, 0, b""),
            b"",
        ),
        (
            "RSA-1024",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &null,
                1024,
                0,
                b"",
            ),
            b"",
        ),
        (
            "RSA-4096",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &null,
                4096,
                0,
                b"",
            ),
            b"",
        ),
        (
            "RSA-1000",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &null,
                1000,
                0,
                b"",
            ),
            b"",
        ),
        (
            "RSA exponent 3",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &null,
                2048,
                3,
                b"",
            ),
            b"",
        ),
        (
            "P-521",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &ecdsa,
                curve::NIST_P521,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "BN P-256",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &ecdsa,
                curve::BN_P256,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "curve 0x42",
            ecc_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &ecdsa,
                0x42,
                b"",
                b"",
            ),
            b"",
        ),
        (
            "nameAlg NULL",
            rsa_public(
                alg::NULL,
                oa::KEY | oa::SIGN,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "authPolicy of 20 octets with SHA-256",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                &[1; 20],
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "sensitiveDataOrigin with data",
            keyedhash_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                b"",
            ),
            b"data",
        ),
        (
            "asymmetric key with data",
            rsa_public(
                alg::SHA256,
                (oa::KEY | oa::SIGN) & !oa::SENSITIVE_DATA_ORIGIN,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"data",
        ),
        (
            "HMAC key of 65 octets for SHA-256",
            keyedhash_public(
                alg::SHA256,
                (oa::KEY | oa::SIGN) & !oa::SENSITIVE_DATA_ORIGIN,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                b"",
            ),
            &[7; 65],
        ),
        (
            "HMAC key of 64 octets for SHA-256",
            keyedhash_public(
                alg::SHA256,
                (oa::KEY | oa::SIGN) & !oa::SENSITIVE_DATA_ORIGIN,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                b"",
            ),
            &[7; 64],
        ),
        (
            "sealed data with no data",
            keyedhash_public(
                alg::SHA256,
                oa::FIXED_TPM | oa::FIXED_PARENT | oa::USER_WITH_AUTH,
                b"",
                &null,
                b"",
            ),
            b"",
        ),
        (
            "sealed data of 129 octets",
            keyedhash_public(
                alg::SHA256,
                oa::FIXED_TPM | oa::FIXED_PARENT | oa::USER_WITH_AUTH,
                b"",
                &null,
                b"",
            ),
            &[7; 129],
        ),
        (
            "sealed data of 128 octets",
            keyedhash_public(
                alg::SHA256,
                oa::FIXED_TPM | oa::FIXED_PARENT | oa::USER_WITH_AUTH,
                b"",
                &null,
                b"",
            ),
            &[7; 128],
        ),
        (
            "XOR keyedhash signing",
            keyedhash_public(
                alg::SHA256,
                oa::KEY | oa::SIGN,
                b"",
                &cat(&[
                    &alg::XOR.to_be_bytes(),
                    &alg::SHA256.to_be_bytes(),
                    &alg::KDF1_SP800_108.to_be_bytes(),
                ]),
                b"",
            ),
            b"",
        ),
        (
            "keyedhash sign and decrypt",
            keyedhash_public(
                alg::SHA256,
                oa::KEY | oa::SIGN | oa::DECRYPT,
                b"",
                &scheme(alg::HMAC, alg::SHA256),
                b"",
            ),
            b"",
        ),
        (
            "AES-128 key of 15 octets",
            symcipher_public(
                alg::SHA256,
                (oa::KEY | oa::DECRYPT) & !oa::SENSITIVE_DATA_ORIGIN,
                b"",
                &aes128cfb,
                b"",
            ),
            &[7; 15],
        ),
        (
            "AES-128 key of 16 octets",
            symcipher_public(
                alg::SHA256,
                (oa::KEY | oa::DECRYPT) & !oa::SENSITIVE_DATA_ORIGIN,
                b"",
                &aes128cfb,
                b"",
            ),
            &[7; 16],
        ),
        (
            "AES-192",
            symcipher_public(
                alg::SHA256,
                oa::KEY | oa::DECRYPT,
                b"",
                &sym_def(alg::AES, 192, alg::CFB),
                b"",
            ),
            b"",
        ),
        (
            "SYMCIPHER with neither sign nor decrypt",
            symcipher_public(alg::SHA256, oa::KEY, b"", &aes128cfb, b""),
            b"",
        ),
        (
            "storage key with a CTR symmetric",
            rsa_public(
                alg::SHA256,
                oa::STORAGE,
                b"",
                &sym_def(alg::AES, 128, alg::CTR),
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "encryptedDuplication on a fixedTPM key",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN | oa::ENCRYPTED_DUPLICATION,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "reserved attribute bit 0",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN | 1,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "reserved attribute bit 3",
            rsa_public(
                alg::SHA256,
                oa::KEY | oa::SIGN | 8,
                b"",
                &null_sym,
                &null,
                2048,
                0,
                b"",
            ),
            b"",
        ),
        (
            "unknown type",
            cat(&[
                &0x0042u16.to_be_bytes(),
                &alg::SHA256.to_be_bytes(),
                &oa::KEY.to_be_bytes(),
                &[0, 0],
            ]),
            b"",
        ),
    ];
    for (what, template, data) in bad {
        let cmd = Cmd::new(cc::CREATEPRIMARY)
            .handle(rh::OWNER)
            .pw(b"")
            .bytes(&sensitive_create(b"", data))
            .b2(&template)
            .b2(b"")
            .u32(0);
        let both = p.exec(&format!("CreatePrimary({what})"), &cmd);
        for (h, side) in [(both.a.handle, 0), (both.b.handle, 1)] {
            if let Some(h) = h {
                if side == 0 {
                    p.vtpm_only(&flush(h));
                } else {
                    p.reference_only(&flush(h));
                }
            }
        }
        let both = p.exec(
            &format!("Create({what})"),
            &create_cmd(sp, &template, b"", data),
        );
        let _ = both;
    }
    p.finish();
}

// ---------------------------------------------------------------------
// Quote: the attestation structure around the random parts
// ---------------------------------------------------------------------

#[test]
fn quote_attestation_structure() {
    let mut p = Pair::new("quote_attestation_structure");
    for pcr in [0u32, 1, 7, 16] {
        p.ok(
            &format!("PCR_Extend({pcr})"),
            &pcr_extend(pcr, &digest_values(&HASHES, pcr as u8 + 0x40)),
        );
    }
    let t = templates();
    for hierarchy in [rh::ENDORSEMENT, rh::OWNER] {
        for tmpl in [&t[5], &t[1]] {
            let k = p.ok_rc(
                &format!("CreatePrimary({} signer, {hierarchy:#x})", tmpl.name),
                &create_primary(hierarchy, b"", &tmpl.public),
            );
            let Some(kh) = k.a.handle else { continue };
            for (sname, sel) in [
                (
                    "SHA-256 0-7",
                    pcr_selection(&[(alg::SHA256, &[0, 1, 2, 3, 4, 5, 6, 7])]),
                ),
                (
                    "SHA-1 and SHA-384",
                    pcr_selection(&[(alg::SHA1, &[0, 16]), (alg::SHA384, &[1, 7])]),
                ),
                ("empty", pcr_selection(&[])),
            ] {
                let what = format!("Quote({}, {hierarchy:#x}, {sname})", tmpl.name);
                let both = p.ok_rc(
                    &what,
                    &Cmd::new(cc::QUOTE)
                        .handle(kh)
                        .pw(b"")
                        .b2(b"qualifying data")
                        .u16(alg::NULL)
                        .bytes(&sel),
                );
                if !both.ok() {
                    continue;
                }
                let (mut a, mut b) = (both.a.reader(), both.b.reader());
                let (qa, qb) = (a.b2(), b.b2());
                let (mut x, mut y) = (Reader::new(qa), Reader::new(qb));
                p.eq_u(&format!("{what}: magic"), x.u32().into(), y.u32().into());
                p.eq_u(&format!("{what}: type"), x.u16().into(), y.u16().into());
                p.eq_u(
                    &format!("{what}: qualifiedSigner size"),
                    x.b2().len() as u64,
                    y.b2().len() as u64,
                );
                p.eq(&format!("{what}: extraData"), x.b2(), y.b2());
                let _clock = (x.u64(), y.u64());
                let (ra, rb, sa, sb) = (x.u32(), y.u32(), x.u32(), y.u32());
                if hierarchy == rh::ENDORSEMENT {
                    // Not obfuscated for the endorsement hierarchy.
                    p.eq_u(&format!("{what}: resetCount"), ra.into(), rb.into());
                    p.eq_u(&format!("{what}: restartCount"), sa.into(), sb.into());
                }
                p.eq_u(&format!("{what}: safe"), x.u8().into(), y.u8().into());
                let _firmware = (x.u64(), y.u64());
                p.eq(
                    &format!("{what}: quoted pcrSelect and pcrDigest"),
                    x.rest(),
                    y.rest(),
                );
                // The signature: scheme, hash and sizes.
                p.eq_u(&format!("{what}: sigAlg"), a.u16().into(), b.u16().into());
                p.eq_u(
                    &format!("{what}: signature hash"),
                    a.u16().into(),
                    b.u16().into(),
                );
                p.eq_u(
                    &format!("{what}: signature size"),
                    a.left() as u64,
                    b.left() as u64,
                );
            }
            p.err(
                &format!("Quote({}) with a scheme other than the key's", tmpl.name),
                &Cmd::new(cc::QUOTE)
                    .handle(kh)
                    .pw(b"")
                    .b2(b"")
                    .u16(alg::RSAPSS)
                    .u16(alg::SHA256)
                    .bytes(&pcr_selection(&[])),
            );
            // TPM2B_DATA holds up to sizeof(TPMT_HA) = 66 octets (Part 2,
            // 10.4.3).
            for n in [64usize, 66, 67] {
                p.exec(
                    &format!("Quote({}) with {n} octets of qualifying data", tmpl.name),
                    &Cmd::new(cc::QUOTE)
                        .handle(kh)
                        .pw(b"")
                        .b2(&vec![1; n])
                        .u16(alg::NULL)
                        .bytes(&pcr_selection(&[])),
                );
            }
            p.ok("FlushContext(signer)", &flush(kh));
        }
    }
    // A decryption key cannot quote.
    let k = p.ok_rc(
        "CreatePrimary(RSA storage) for Quote",
        &create_primary(rh::OWNER, b"", &t[0].public),
    );
    if let Some(kh) = k.a.handle {
        p.err(
            "Quote with a storage key",
            &Cmd::new(cc::QUOTE)
                .handle(kh)
                .pw(b"")
                .b2(b"")
                .u16(alg::NULL)
                .bytes(&pcr_selection(&[])),
        );
        p.ok("FlushContext", &flush(kh));
    }
    p.finish();
}

// ---------------------------------------------------------------------
// Invalid requests: response codes only
// ---------------------------------------------------------------------

/// Raw command bytes: header with `size` (None: the real size).
fn raw(tag: u16, size: Option<u32>, code: u32, rest: &[u8]) -> Cmd {
    let len = size.unwrap_or(10 + rest.len() as u32);
    Cmd::raw(&cat(&[
        &tag.to_be_bytes(),
        &len.to_be_bytes(),
        &code.to_be_bytes(),
        rest,
    ]))
}

#[test]
fn invalid_requests_response_codes() {
    let mut p = Pair::new("invalid_requests_response_codes");
    let getcap = cat(&[
        &6u32.to_be_bytes(),
        &0x100u32.to_be_bytes(),
        &1u32.to_be_bytes(),
    ]);
    // Headers.
    for (what, cmd) in [
        (
            "TPM 1.2 tag 0x00C1",
            raw(0x00C1, None, cc::GETCAPABILITY, &getcap),
        ),
        ("tag 0x8003", raw(0x8003, None, cc::GETCAPABILITY, &getcap)),
        ("tag 0x0000", raw(0x0000, None, cc::GETCAPABILITY, &getcap)),
        (
            "tag SESSIONS without an authorization area",
            raw(0x8002, None, cc::GETCAPABILITY, &getcap),
        ),
        (
            "size larger than the bytes",
            raw(0x8001, Some(30), cc::GETCAPABILITY, &getcap),
        ),
        (
            "size smaller than the bytes",
            raw(0x8001, Some(20), cc::GETCAPABILITY, &getcap),
        ),
        ("size 9", raw(0x8001, Some(9), cc::GETCAPABILITY, &getcap)),
        ("size 0", raw(0x8001, Some(0), cc::GETCAPABILITY, &getcap)),
        (
            "size 0xFFFFFFFF",
            raw(0x8001, Some(u32::MAX), cc::GETCAPABILITY, &getcap),
        ),
        ("9 bytes", Cmd::raw(&[0x80, 0x01, 0, 0, 0, 9, 0, 0, 1])),
        ("empty command", Cmd::raw(&[])),
        (
            "header only, GetCapability",
            raw(0x8001, None, cc::GETCAPABILITY, &[]),
        ),
        (
            "truncated parameters",
            raw(0x8001, None, cc::GETCAPABILITY, &getcap[..7]),
        ),
        (
            "trailing bytes",
            raw(0x8001, None, cc::GETCAPABILITY, &cat(&[&getcap, &[0]])),
        ),
        (
            "4097-byte command",
            raw(0x8001, None, cc::GETCAPABILITY, &[0; 4087]),
        ),
    ] {
        p.err(&format!("GetCapability, {what}"), &cmd);
    }
    // Command codes.
    for code in [
        0u32,
        0x11E,
        0x123,
        0x1A2,
        0x1AB,
        0x1FF,
        0x2000_0001,
        0x2000_FFFF,
        0x8000_017A,
        0x0001_017A,
    ] {
        p.err(
            &format!("command code {code:#x}"),
            &raw(0x8001, None, code, &[]),
        );
    }
    p.err(
        "Hash(NO_SESSIONS) with trailing auth",
        &raw(
            0x8001,
            None,
            cc::HASH,
            &cat(&[
                &sized(b"abc"),
                &alg::SHA256.to_be_bytes(),
                &rh::NULL.to_be_bytes(),
                &[0; 9],
            ]),
        ),
    );
    // Startup state.
    p.err("Startup(CLEAR) twice", &startup(0));
    p.err("Startup(3)", &startup(3));
    p.err("Shutdown(2)", &shutdown(2));
    // Handles.
    for (what, h) in [
        (
            "transient 0x80000001 (in range, not loaded)",
            0x8000_0001u32,
        ),
        ("transient 0x80000005", 0x8000_0005),
        ("transient 0x80FFFFFF", 0x80ff_ffff),
        ("persistent 0x81000001 (not present)", 0x8100_0001),
        ("NV index 0x01000000", 0x0100_0000),
        ("PCR 0", 0),
        ("owner", rh::OWNER),
        ("TPM_RH_NULL", rh::NULL),
        ("HMAC session 0x02000000", 0x0200_0000),
        ("0xFF000000", 0xff00_0000),
    ] {
        p.err(
            &format!("ReadPublic({what})"),
            &Cmd::new(cc::READPUBLIC).handle(h),
        );
        p.exec(&format!("FlushContext({what})"), &flush(h));
        p.err(
            &format!("ContextSave({what})"),
            &Cmd::new(cc::CONTEXTSAVE).handle(h),
        );
    }
    p.err("ReadPublic with no handle", &Cmd::new(cc::READPUBLIC));
    // Authorization.
    let getrand = |n: u16| Cmd::new(cc::GETRANDOM).u16(n);
    let r = p.ok_rc("GetRandom(16)", &getrand(16));
    p.eq_u(
        "GetRandom(16): size",
        r.a.params.len() as u64,
        r.b.params.len() as u64,
    );
    let r = p.ok_rc("GetRandom(100)", &getrand(100));
    p.eq_u(
        "GetRandom(100): size",
        r.a.params.len() as u64,
        r.b.params.len() as u64,
    );
    let r = p.ok_rc("GetRandom(0)", &getrand(0));
    p.eq_u(
        "GetRandom(0): size",
        r.a.params.len() as u64,
        r.b.params.len() as u64,
    );
    let hca = |pw: &[u8], new: &[u8]| {
        Cmd::new(cc::HIERARCHYCHANGEAUTH)
            .handle(rh::OWNER)
            .pw(pw)
            .b2(new)
    };
    p.ok("HierarchyChangeAuth(owner, \"owner\")", &hca(b"", b"owner"));
    p.err(
        "HierarchyChangeAuth(owner) with no password",
        &hca(b"", b"x"),
    );
    p.err(
        "HierarchyChangeAuth(owner) with the wrong password",
        &hca(b"wrong", b"x"),
    );
    p.ok(
        "HierarchyChangeAuth(owner) to a 33-octet auth",
        &hca(b"owner", &[1; 33]),
    );
    p.ok(
        "HierarchyChangeAuth(owner) to a 64-octet auth",
        &hca(&[1; 33], &[2; 64]),
    );
    p.err(
        "HierarchyChangeAuth(owner) to a 65-octet auth",
        &hca(&[2; 64], &[1; 65]),
    );
    p.ok(
        "HierarchyChangeAuth(owner) back to empty",
        &hca(&[2; 64], b""),
    );
    let lockout_hca = |pw: &[u8]| {
        Cmd::new(cc::HIERARCHYCHANGEAUTH)
            .handle(rh::LOCKOUT)
            .pw(pw)
            .b2(b"")
    };
    p.err(
        "HierarchyChangeAuth(lockout) with the wrong password (DA)",
        &lockout_hca(b"wrong"),
    );
    p.err(
        "HierarchyChangeAuth(lockout) after a lockout failure",
        &lockout_hca(b""),
    );
    p.err(
        "NV_DefineSpace without authorization",
        &Cmd::new(cc::NV_DEFINESPACE)
            .handle(rh::OWNER)
            .b2(b"")
            .b2(&nv_public(
                0x0150_0000,
                alg::SHA256,
                nva::AUTHREAD | nva::AUTHWRITE,
                b"",
                8,
            )),
    );
    let define = |tag_sessions: Vec<(u32, Vec<u8>, u8, Vec<u8>)>| {
        let mut c = Cmd::new(cc::NV_DEFINESPACE).handle(rh::OWNER);
        for (h, nonce, attrs, hmac) in tag_sessions {
            c = c.session(h, &nonce, attrs, &hmac);
        }
        c.b2(b"").b2(&nv_public(
            0x0150_0000,
            alg::SHA256,
            nva::AUTHREAD | nva::AUTHWRITE,
            b"",
            8,
        ))
    };
    p.err(
        "password session with a nonce",
        &define(vec![(rh::PW, vec![1; 16], 1, vec![])]),
    );
    p.err(
        "password session with reserved attributes",
        &define(vec![(rh::PW, vec![], 0x19, vec![])]),
    );
    p.err(
        "password session with audit",
        &define(vec![(rh::PW, vec![], 0x81, vec![])]),
    );
    p.err(
        "two password sessions for one handle",
        &define(vec![
            (rh::PW, vec![], 1, vec![]),
            (rh::PW, vec![], 1, vec![]),
        ]),
    );
    p.err(
        "session handle not loaded",
        &define(vec![(0x0200_0005, vec![1; 16], 1, vec![0; 32])]),
    );
    p.err(
        "session handle TPM_RH_NULL",
        &define(vec![(rh::NULL, vec![], 1, vec![])]),
    );
    p.err(
        "authorization area size too large",
        &raw(
            0x8002,
            None,
            cc::NV_DEFINESPACE,
            &cat(&[
                &rh::OWNER.to_be_bytes(),
                &100u32.to_be_bytes(),
                &rh::PW.to_be_bytes(),
                &[0, 0, 1, 0, 0],
            ]),
        ),
    );
    p.err(
        "authorization area size too small",
        &raw(
            0x8002,
            None,
            cc::NV_DEFINESPACE,
            &cat(&[
                &rh::OWNER.to_be_bytes(),
                &8u32.to_be_bytes(),
                &rh::PW.to_be_bytes(),
                &[0, 0, 1, 0, 0],
            ]),
        ),
    );
    p.err(
        "authorization area size 0",
        &raw(
            0x8002,
            None,
            cc::NV_DEFINESPACE,
            &cat(&[&rh::OWNER.to_be_bytes(), &0u32.to_be_bytes()]),
        ),
    );
    // GetCapability parameters.
    for (what, c, prop, n) in [
        ("capability 0x0A", 0x0Au32, 0u32, 1u32),
        ("capability 0x100", 0x100, 0, 1),
        ("TPM_CAP_VENDOR_PROPERTY", 0x100, 0, 1),
        ("count 0", 6, 0x100, 0),
        ("property 0x300", 6, 0x300, 1),
        ("handles of type 0x05", 1, 0x0500_0000, 1),
        ("PCR properties from 0x20", 7, 0x20, 1),
        ("huge count", 6, 0x100, 0xffff_ffff),
    ] {
        let both = p.exec(
            &format!("GetCapability({what})"),
            &get_capability(c, prop, n),
        );
        if both.ok() {
            p.eq(
                &format!("GetCapability({what}): moreData and capability"),
                both.a.params.get(..5).unwrap_or_default(),
                both.b.params.get(..5).unwrap_or_default(),
            );
        }
    }
    // Parameter errors on simple commands.
    p.err(
        "StartAuthSession(type 2)",
        &Cmd::new(cc::STARTAUTHSESSION)
            .handle(rh::NULL)
            .handle(rh::NULL)
            .b2(&[0x11; 16])
            .b2(b"")
            .u8(2)
            .u16(alg::NULL)
            .u16(alg::SHA256),
    );
    p.err(
        "StartAuthSession(nonce of 15 octets)",
        &Cmd::new(cc::STARTAUTHSESSION)
            .handle(rh::NULL)
            .handle(rh::NULL)
            .b2(&[0x11; 15])
            .b2(b"")
            .u8(0)
            .u16(alg::NULL)
            .u16(alg::SHA256),
    );
    p.err("StartAuthSession(hash NULL)", &start_session(0, alg::NULL));
    p.err(
        "StartAuthSession(salt without a key)",
        &Cmd::new(cc::STARTAUTHSESSION)
            .handle(rh::NULL)
            .handle(rh::NULL)
            .b2(&[0x11; 16])
            .b2(&[1; 32])
            .u8(0)
            .u16(alg::NULL)
            .u16(alg::SHA256),
    );
    p.err(
        "StartAuthSession(XOR without a hash)",
        &Cmd::new(cc::STARTAUTHSESSION)
            .handle(rh::NULL)
            .handle(rh::NULL)
            .b2(&[0x11; 16])
            .b2(b"")
            .u8(0)
            .u16(alg::XOR)
            .u16(alg::NULL)
            .u16(alg::SHA256),
    );
    p.err(
        "PolicyGetDigest(not a session)",
        &policy_get_digest(rh::OWNER),
    );
    p.err(
        "PolicyGetDigest(no such session)",
        &policy_get_digest(0x0300_0007),
    );
    p.err(
        "TestParms(RSA-4095)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::RSA)
            .bytes(&sym_def(alg::NULL, 0, 0))
            .bytes(&scheme(alg::NULL, 0))
            .u16(4095)
            .u32(0),
    );
    p.ok(
        "TestParms(RSA-2048)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::RSA)
            .bytes(&sym_def(alg::NULL, 0, 0))
            .bytes(&scheme(alg::NULL, 0))
            .u16(2048)
            .u32(0),
    );
    p.ok(
        "TestParms(P-256 ECDSA)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::ECC)
            .bytes(&sym_def(alg::NULL, 0, 0))
            .bytes(&scheme(alg::ECDSA, alg::SHA256))
            .u16(curve::NIST_P256)
            .u16(alg::NULL),
    );
    p.ok(
        "TestParms(AES-128 CFB)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::SYMCIPHER)
            .bytes(&sym_def(alg::AES, 128, alg::CFB)),
    );
    p.exec(
        "TestParms(AES-192 CFB)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::SYMCIPHER)
            .bytes(&sym_def(alg::AES, 192, alg::CFB)),
    );
    p.exec(
        "TestParms(RSA-3072)",
        &Cmd::new(cc::TESTPARMS)
            .u16(alg::RSA)
            .bytes(&sym_def(alg::NULL, 0, 0))
            .bytes(&scheme(alg::NULL, 0))
            .u16(3072)
            .u32(0),
    );
    p.err(
        "TestParms(unknown type)",
        &Cmd::new(cc::TESTPARMS).u16(0x42),
    );
    let rc = p.ok_rc("ReadClock", &Cmd::new(cc::READCLOCK));
    if rc.ok() {
        // time and clock are each TPM's own; resetCount, restartCount
        // and safe are not.
        let (mut a, mut b) = (rc.a.reader(), rc.b.reader());
        a.take(16);
        b.take(16);
        p.eq(
            "ReadClock: resetCount, restartCount, safe",
            a.rest(),
            b.rest(),
        );
    }
    p.ok("GetTestResult", &Cmd::new(cc::GETTESTRESULT));
    p.ok(
        "ECC_Parameters(P-256)",
        &Cmd::new(cc::ECC_PARAMETERS).u16(curve::NIST_P256),
    );
    p.ok(
        "ECC_Parameters(P-384)",
        &Cmd::new(cc::ECC_PARAMETERS).u16(curve::NIST_P384),
    );
    p.exec(
        "ECC_Parameters(P-521)",
        &Cmd::new(cc::ECC_PARAMETERS).u16(curve::NIST_P521),
    );
    p.err(
        "ECC_Parameters(0x42)",
        &Cmd::new(cc::ECC_PARAMETERS).u16(0x42),
    );
    // Before Startup.
    p.restart();
    p.err("GetCapability before Startup", &get_capability(6, 0x100, 1));
    p.err("Shutdown before Startup", &shutdown(0));
    p.ok("Startup(CLEAR) after _TPM_Init", &startup(0));
    p.finish();
}

// ---------------------------------------------------------------------
// Recorded tpm2-tools traffic
// ---------------------------------------------------------------------

#[test]
fn tpm2_tools_trace_replay() {
    let text = include_str!("../traces/tpm2-tools.trace");
    let trace = vtpm_difftest::trace::parse(text).expect("trace parses");
    let mut p = Pair::new("tpm2_tools_trace_replay");
    let stats = vtpm_difftest::trace::replay(&mut p, &trace);
    println!(
        "trace: {} commands replayed, outputs compared for {}, {} HMAC sessions re-signed",
        stats.commands, stats.outputs_compared, stats.hmacs_resigned
    );
    assert!(
        stats.vtpm_drift.is_empty(),
        "vtpm's replay departs from the recording (replay problem):\n{}",
        stats.vtpm_drift.join("\n")
    );
    assert!(stats.commands > 200 && stats.outputs_compared > 50);
    p.finish();
}

// ---------------------------------------------------------------------
// The documentation lists every allowed difference
// ---------------------------------------------------------------------

#[test]
fn readme_lists_every_allowed_difference() {
    let readme = include_str!("../README.md");
    let mut ids = std::collections::HashSet::new();
    for a in vtpm_difftest::allowed::ALLOWED {
        assert!(ids.insert(a.id), "duplicate allowed id {}", a.id);
        assert!(
            readme.contains(&format!("| `{}` |", a.id)),
            "difftest/README.md does not list the allowed difference `{}`",
            a.id
        );
        assert!(
            !a.summary.is_empty() && !a.reference.is_empty(),
            "{} is undocumented",
            a.id
        );
    }
}

// ---------------------------------------------------------------------
// Derived Objects
// ---------------------------------------------------------------------

/// `TPMS_DERIVE` (label, context).
fn tpms_derive(label: &[u8], context: &[u8]) -> Vec<u8> {
    cat(&[&sized(label), &sized(context)])
}

/// An ECC template whose unique field is a `TPMS_DERIVE`.
fn derived_ecc(attrs: u32, sch: &[u8], sym: &[u8], curve_id: u16, unique: &[u8]) -> Vec<u8> {
    cat(&[
        &alg::ECC.to_be_bytes(),
        &alg::SHA256.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(b""),
        sym,
        sch,
        &curve_id.to_be_bytes(),
        &alg::NULL.to_be_bytes(),
        unique,
    ])
}

fn create_loaded(parent: u32, sens: &[u8], template: &[u8]) -> Cmd {
    Cmd::new(cc::CREATELOADED)
        .handle(parent)
        .pw(b"")
        .bytes(sens)
        .b2(template)
}

/// TPM2_CreateLoaded under a Derivation Parent (Part 3, 12.9; Part 1, 25):
/// "The derivation process is required to be the same for all TPMs"
/// (Part 1, 25.5), so with the same parent key, label and context both
/// engines derive the same public area and Name (ECC P-256/P-384,
/// AES, HMAC, sealed data), and libtpms verifies a
/// signature made by vtpm's derived key. Then the invalid requests.
#[test]
fn derived_objects_under_a_derivation_parent() {
    let mut p = Pair::new("derived_objects_under_a_derivation_parent");
    // The parent's key is caller data so both engines hold the same one
    // (libtpms takes caller data for a restricted keyedHash only with
    // fixedTPM and fixedParent CLEAR).
    let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(13) ^ 0xA5).collect();
    let parent_attrs = oa::USER_WITH_AUTH | oa::RESTRICTED | oa::DECRYPT;
    let xor = cat(&[
        &alg::XOR.to_be_bytes(),
        &alg::SHA256.to_be_bytes(),
        &alg::KDF1_SP800_108.to_be_bytes(),
    ]);
    let parent = p.ok_rc(
        "CreatePrimary(KEYEDHASH derivation parent, owner)",
        &Cmd::new(cc::CREATEPRIMARY)
            .handle(rh::OWNER)
            .pw(b"")
            .bytes(&sensitive_create(b"", &key))
            .b2(&keyedhash_public(alg::SHA256, parent_attrs, b"", &xor, b""))
            .b2(b"")
            .u32(0),
    );
    let Some(parent) = parent.a.handle else {
        panic!("harness: derivation parent not created on vtpm");
    };
    // Under a parent without fixedTPM, fixedTPM is CLEAR (Part 2, 8.3.3.2).
    let fixed = oa::FIXED_PARENT | oa::USER_WITH_AUTH;
    let ecdsa = scheme(alg::ECDSA, alg::SHA256);
    let null = scheme(alg::NULL, 0);
    let aes_cfb = sym_def(alg::AES, 128, alg::CFB);
    let lc = tpms_derive(b"label", b"context");
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "P-256 ECDSA signing key",
            sensitive_create(b"", b""),
            derived_ecc(fixed | oa::SIGN, &ecdsa, &null, curve::NIST_P256, &lc),
        ),
        (
            "P-256 key, label and context in inSensitive.data",
            sensitive_create(b"", &lc),
            derived_ecc(
                fixed | oa::SIGN,
                &ecdsa,
                &null,
                curve::NIST_P256,
                &tpms_derive(b"", b""),
            ),
        ),
        (
            "P-256 key, another context",
            sensitive_create(b"auth", b""),
            derived_ecc(
                fixed | oa::SIGN,
                &ecdsa,
                &null,
                curve::NIST_P256,
                &tpms_derive(b"label", b"context 2"),
            ),
        ),
        (
            "P-256 key, empty label and context",
            sensitive_create(b"", b""),
            derived_ecc(
                fixed | oa::SIGN,
                &ecdsa,
                &null,
                curve::NIST_P256,
                &tpms_derive(b"", b""),
            ),
        ),
        (
            "P-384 ECDSA signing key",
            sensitive_create(b"", b""),
            derived_ecc(
                fixed | oa::SIGN,
                &scheme(alg::ECDSA, alg::SHA384),
                &null,
                curve::NIST_P384,
                &lc,
            ),
        ),
        (
            "AES-128 key",
            sensitive_create(b"", b""),
            cat(&[
                &alg::SYMCIPHER.to_be_bytes(),
                &alg::SHA256.to_be_bytes(),
                &(fixed | oa::SIGN | oa::DECRYPT).to_be_bytes(),
                &sized(b""),
                &aes_cfb,
                &lc,
            ]),
        ),
        (
            "HMAC-SHA256 key",
            sensitive_create(b"", b""),
            cat(&[
                &alg::KEYEDHASH.to_be_bytes(),
                &alg::SHA256.to_be_bytes(),
                &(fixed | oa::SIGN).to_be_bytes(),
                &sized(b""),
                &scheme(alg::HMAC, alg::SHA256),
                &lc,
            ]),
        ),
        (
            "sealed data object",
            sensitive_create(b"", b""),
            cat(&[
                &alg::KEYEDHASH.to_be_bytes(),
                &alg::SHA256.to_be_bytes(),
                &fixed.to_be_bytes(),
                &sized(b""),
                &null,
                &lc,
            ]),
        ),
    ];
    let mut signer = None;
    for (name, sens, template) in &cases {
        let what = format!("CreateLoaded(derived {name})");
        let both = p.ok(&what, &create_loaded(parent, sens, template));
        let Some(h) = both.a.handle else { continue };
        if *name == "P-256 ECDSA signing key" {
            signer = Some(h);
            continue;
        }
        p.ok(&format!("FlushContext({what})"), &flush(h));
    }
    // vtpm's derived key signs; libtpms's derived key verifies it.
    let signer = signer.expect("harness: derived signing key");
    let digest = sha256(b"signed with a derived key");
    let sig = p.vtpm_only(&sign_digest(signer, &digest));
    assert_eq!(sig.rc, 0, "harness: vtpm Sign with the derived key");
    p.ok_rc(
        "VerifySignature(vtpm's signature with the derived key)",
        &Cmd::new(cc::VERIFYSIGNATURE)
            .handle(signer)
            .b2(&digest)
            .bytes(&sig.params),
    );
    p.ok("FlushContext(derived signer)", &flush(signer));
    // Invalid requests.
    let bad: Vec<(&str, Cmd)> = vec![
        (
            "CreateLoaded(derived key with sensitiveDataOrigin)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &derived_ecc(
                    fixed | oa::SENSITIVE_DATA_ORIGIN | oa::SIGN,
                    &ecdsa,
                    &null,
                    curve::NIST_P256,
                    &lc,
                ),
            ),
        ),
        (
            "CreateLoaded(derived RSA key)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &cat(&[
                    &alg::RSA.to_be_bytes(),
                    &alg::SHA256.to_be_bytes(),
                    &(fixed | oa::SIGN).to_be_bytes(),
                    &sized(b""),
                    &null,
                    &null,
                    &2048u16.to_be_bytes(),
                    &0u32.to_be_bytes(),
                    &lc,
                ]),
            ),
        ),
        (
            "CreateLoaded(derived key with a 33-octet label)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &derived_ecc(
                    fixed | oa::SIGN,
                    &ecdsa,
                    &null,
                    curve::NIST_P256,
                    &tpms_derive(&[7; 33], b""),
                ),
            ),
        ),
        (
            "CreateLoaded(derived fixedTPM key under a parent without fixedTPM)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &derived_ecc(
                    oa::FIXED_TPM | fixed | oa::SIGN,
                    &ecdsa,
                    &null,
                    curve::NIST_P256,
                    &lc,
                ),
            ),
        ),
        (
            "CreateLoaded(derived restricted signing key without a scheme)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &derived_ecc(
                    fixed | oa::RESTRICTED | oa::SIGN,
                    &null,
                    &null,
                    curve::NIST_P256,
                    &lc,
                ),
            ),
        ),
        (
            "CreateLoaded(derived P-256 storage key with fixedParent)",
            create_loaded(
                parent,
                &sensitive_create(b"", b""),
                &derived_ecc(
                    fixed | oa::RESTRICTED | oa::DECRYPT,
                    &null,
                    &aes_cfb,
                    curve::NIST_P256,
                    &lc,
                ),
            ),
        ),
        (
            "Create(under a derivation parent)",
            Cmd::new(cc::CREATE)
                .handle(parent)
                .pw(b"")
                .bytes(&sensitive_create(b"", b""))
                .b2(&derived_ecc(
                    fixed | oa::SENSITIVE_DATA_ORIGIN | oa::SIGN,
                    &ecdsa,
                    &null,
                    curve::NIST_P256,
                    &sized(b"").repeat(2),
                ))
                .b2(b"")
                .u32(0),
        ),
    ];
    for (what, cmd) in &bad {
        p.err(what, cmd);
    }
    // A derived key with fixedParent CLEAR: the v185 creation rules allow
    // it (Part 2, 8.3.3.2 and 8.3.3.4); libtpms refuses.
    let what = "CreateLoaded(derived key, fixedParent CLEAR)";
    let both = p.exec(
        what,
        &create_loaded(
            parent,
            &sensitive_create(b"", b""),
            &derived_ecc(
                oa::USER_WITH_AUTH | oa::SIGN,
                &ecdsa,
                &null,
                curve::NIST_P256,
                &lc,
            ),
        ),
    );
    if let Some(h) = both.a.handle {
        p.vtpm_only(&flush(h));
    }
    p.finish();
}
