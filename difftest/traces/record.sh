#!/bin/sh
# Record the tpm2-tools command trace replayed by the differential test
# `tpm2_tools_trace_replay` (difftest/tests/differential.rs):
#
#   cargo build -p vtpm-host-sim
#   difftest/traces/record.sh [OUT]        # default difftest/traces/tpm2-tools.trace
#
# It runs a freshly manufactured vtpm-host-sim with --trace-commands and a
# fixed list of tpm2-tools commands against it (mssim TCTI, no resource
# manager). Transient objects are flushed as they go so that at most three
# are loaded at a time (libtpms has three object slots) and only password
# and policy sessions are used (an HMAC session's HMACs depend on
# nonceTPM, which differs on replay). Inputs are fixed; what varies between
# recordings is only what the TPM itself makes up (nonces, keys, blobs),
# which the replay maps.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/tpm2-tools.trace}
sim=$root/target/debug/vtpm-host-sim
work=$(mktemp -d)
port=${PORT:-23921}
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

rm -f "$out"
"$sim" --port "$port" --state "$work/state" --manufacture --trace-commands "$out" \
    --log-level warn &
pid=$!
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
done
export TPM2TOOLS_TCTI="mssim:host=127.0.0.1,port=$port"
cd "$work"
t() { echo "+ tpm2 $*" >&2; tpm2 "$@" >/dev/null; }

printf 'differential test data' > data.bin
printf '0123456789abcdef0123456789abcdef' > nvdata.bin
printf 'sealed secret' > secret.bin
printf '0123456789abcdef' > aes.key
printf 'sixteen byte msg' > plain.bin
printf 'initial vector..!' | head -c 16 > iv.bin
printf 'hmac key of 32 octets, exactly.' > hmac.key
printf 'message to verify' > msg.bin
openssl genrsa -out rsa.pem 2048 2>/dev/null
openssl rsa -in rsa.pem -pubout -out rsa.pub.pem 2>/dev/null
openssl dgst -sha256 -sign rsa.pem -out msg.sig msg.bin

t startup -c
t selftest -f
t getcap properties-fixed
t getcap algorithms
t getcap commands
t getcap pcrs
t getrandom 16 --hex
t pcrextend 0:sha1=000102030405060708090a0b0c0d0e0f10111213,sha256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
t pcrevent 1 data.bin
t pcrread sha1:0,1,16+sha256:0,1,16+sha384:0
t pcrreset 16
t pcrread sha256:16
t hash -g sha256 --hex data.bin
t hash -g sha1 -C n --hex data.bin
t hash -g sha384 -C e -t ticket.bin data.bin
# Keys: primary, a child key, a sealed object. tpm2-tools loads a context
# file anew in every tool and never flushes, so flush after each tool.
t createprimary -C o -g sha256 -G rsa2048 -c primary.ctx
t flushcontext -t
t readpublic -c primary.ctx
t flushcontext -t
t create -C primary.ctx -G ecc256 -u key.pub -r key.priv
t flushcontext -t
t load -C primary.ctx -u key.pub -r key.priv -c key.ctx
t flushcontext -t
t readpublic -c key.ctx
t flushcontext -t
t create -C primary.ctx -i secret.bin -u seal.pub -r seal.priv
t flushcontext -t
t load -C primary.ctx -u seal.pub -r seal.priv -c seal.ctx
t flushcontext -t
t unseal -c seal.ctx
t flushcontext -t
t createprimary -C e -G ecc256 -c ek.ctx
t flushcontext -t
# NV.
t nvdefine 0x1500016 -C o -s 32 -a "ownerread|ownerwrite|authread|authwrite"
t nvwrite 0x1500016 -C o -i nvdata.bin
t nvread 0x1500016 -C o -s 32
t nvread 0x1500016 -C 0x1500016 -s 8 --offset 4
t nvreadpublic 0x1500016
t nvdefine 0x1500017 -C o -s 8 -a "ownerread|ownerwrite|nt=counter"
t nvincrement 0x1500017 -C o
t nvincrement 0x1500017 -C o
t nvread 0x1500017 -C o -s 8
t nvdefine 0x1500018 -C o -s 32 -g sha256 -a "ownerread|ownerwrite|nt=extend"
t nvextend 0x1500018 -C o -i data.bin
t nvread 0x1500018 -C o -s 32
t nvreadpublic
t nvundefine 0x1500017 -C o
# Trial policy sessions.
t startauthsession -S s.ctx
t policypcr -S s.ctx -l sha256:0,1 -L pcr.policy
t flushcontext s.ctx
t startauthsession -S s.ctx
t policycommandcode -S s.ctx -L cc.policy TPM2_CC_Unseal
t policyauthvalue -S s.ctx -L av.policy
t flushcontext s.ctx
t startauthsession -S s.ctx
t policypassword -S s.ctx -L pw.policy
t policylocality -S s.ctx -L loc.policy 3
t flushcontext s.ctx
t startauthsession -S s.ctx
t policysecret -S s.ctx -c o -L secret.policy
t flushcontext s.ctx
t startauthsession -S s.ctx
t policyor -S s.ctx -L or.policy -l sha256:pcr.policy,cc.policy
t flushcontext s.ctx
t startauthsession -S s.ctx -g sha1
t policycommandcode -S s.ctx -L cc1.policy TPM2_CC_NV_Read
t flushcontext s.ctx
# External keys.
t loadexternal -C n -G aes -r aes.key -c aes.ctx
t flushcontext -t
t encryptdecrypt -c aes.ctx -t iv.bin:iv.out -o cipher.bin plain.bin
t flushcontext -t
t encryptdecrypt -d -c aes.ctx -t iv.bin -o plain2.bin cipher.bin
t flushcontext -t
# tpm2_loadexternal -G hmac asks for sign|decrypt with an HMAC scheme by
# default, which Part 3, 12.1.1 and 12.3.1 refuse (TPM_RC_SCHEME): it must
# fail. With sign only, it loads.
echo "+ tpm2 loadexternal -C n -G hmac -r hmac.key -c hmac.ctx (must fail)" >&2
if tpm2 loadexternal -C n -G hmac -r hmac.key -c hmac.ctx >/dev/null 2>&1; then
    echo "record.sh: loadexternal of a sign|decrypt HMAC key succeeded" >&2
    exit 1
fi
t loadexternal -C n -G hmac -a "sign|userwithauth" -r hmac.key -c hmac2.ctx
t flushcontext -t
t hmac -c hmac2.ctx --hex data.bin
t flushcontext -t
t loadexternal -C o -G rsa -u rsa.pub.pem -c rsapub.ctx
t flushcontext -t
t verifysignature -c rsapub.ctx -g sha256 -m msg.bin -s msg.sig -f rsassa -t verified.tk
t flushcontext -t
t rsaencrypt -c rsapub.ctx -s null -o rsa.out plain.bin
t flushcontext -t
t testparms rsa2048
t testparms ecc256
t readclock
t shutdown -c
