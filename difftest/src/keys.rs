//! Fixed keys and signatures made outside both TPMs, with OpenSSL 3.0
//! (`openssl genrsa 2048`, `openssl ecparam -genkey` on prime256v1 and
//! secp384r1, `openssl dgst -sha256 -sign` over [`MESSAGE`], and
//! `openssl pkeyutl -derive` for the ECDH shared secret), so the tests
//! can load them with TPM2_LoadExternal and check signatures and Z values
//! made by an independent implementation.

/// The signed message.
pub const MESSAGE: &[u8] = b"vtpm differential test message";
/// SHA-384 of [`MESSAGE`].
pub const MESSAGE_SHA384: &str = "82269ad4155fb16a12945cb4d324d01159b6eac5d49695538e36a6c8c903219a031ddc27254f245c5dec55c503f0262d";
/// SHA-256 of [`MESSAGE`].
pub const MESSAGE_SHA256: &str = "71bbb4ef97f81a230950dd6ae6249d03776a6b319e33509ec77f90cb8e2c50ef";
/// RSA-2048 modulus (e = 65537).
pub const RSA_N: &str = "afe73afd64e14cb76df933efd67b237122b3fe0e9247111063317b69b3184ec67d517c8738b4c3f6fe2ddde4e0fd919b334c105584aec3faafb7ec18ec7a2c60ff8440f95503a57197ef90bebec67a4491f6e9411c7eb7268b2291e0837a165e91246097bd2610e4547e674ee10011748c0bfabd8c5c2a5b3a8ae0d7dfd1514ebd84d611de125a882d321cdfa5be1b331b813e950a3da874c57055e20ffba68925da8d9f3e91ed88346fb3f2404066e1c106e627ffabe1a67084f5dbef42482c40ac19fb2d623215f2004a9507774fc73ab67c0d9d47902cd94301a7bc5082d471ccf6506c9b8133c8c215af134e978e6b02baca79483826fe38916acd283dc3";
/// Its first prime.
pub const RSA_P: &str = "d907244cef8964e0d1dde1ce84f719ef95fdad6d9e782dd6ba5069b1c0446d2b1869901d54bc1c6008bd204f1f672f8b9379d7a4296e1517b97e3f6198b10212ce9e048513bba493dc878b4498f42e95b27ec7ab03cb3f36890b92bab08cbd10535c823615f4bbac847e6f7bb1e41bc76c9deb259f543149d02f03090f8a065f";
/// Its second prime.
pub const RSA_Q: &str = "cf7d9271b1d8568a1878c4a75a7523c4a68d0c337345c5ed1326a13435a727fc2e16cf9a954123696a6c4b20347ba08fe45231c50e292fd1c65677fb7c429dcf4c6f32e0c8b5b3f95cbc8f8ca00d1e4d06490e7ca4aaa173e94babe016fc17c49b24b925778111604c93af587dd5a1855f9973c6028c66c8f4cd0e7b63969b1d";
/// RSASSA-PKCS1-v1_5 SHA-256 signature of MESSAGE.
pub const RSA_SIG_PKCS1_SHA256: &str = "7db9a624f075b5c5f09cdb6a788240f1779d4e1310b8f498db691d06bb2988106700ec994ae9597cb58b66ac51082977d3003c3c02d4470f1dd3f5374f8778ff9bcc32f4137c34666d9b00bf189a054a82b9a29bfadab16eeb31aa01909206729e2146ac843bce07ca0a206f836d7b3a1090dbce22037fe7fea4536ad631e9cfeda285b2ec3ce6a941c4b446c1a0505e69e680d70a378522fd29f713c17d5ae58bc95f0f3021cc352321b88b07ce49e279b17f0a3a1e4353ff46d1a88855585d8bf2dc0c7ab35d202ae240da4992f38fffe9ccfe41535556dd3006f669db9506945bd032d4d395ce7e355b3f90736bc188630bed8f7cf561c1390d2413a4fc60";
/// RSASSA-PSS SHA-256 signature of MESSAGE (salt 32 bytes).
pub const RSA_SIG_PSS_SHA256: &str = "7f6171b4a0fe482d950cc472e4ad1007bae95fb4aaadce365985b9e72e25f44ef4d3702afa10e94d74af0f5db7c9482bcdf173f3be69ef9754a86361919b55b7408d30bd92edb1982bfad2b1694c87c9a12c78f560f36ce4a0d98847d2d10c6ae4053c6cfe7c82c58d88a06d7131fbd0680a9f8316c8843170d60dbc9ab172df3f548f7e19078504dc448a3ecb4a50225d0fff435c09835ce70a632d96f87dd307a8260d9d25d7c8c341d785cd25b7c4e806a3152e362c65269acf5aca90155aebfea944dca6d9aa1dd496cd31e3a5bdb562982e4446b1b3fb77ffcfa9e67d5a5f8774365676faab9e99fade1839a58085e07f2a7388d31fda7c4e5627201b8c";
/// P-256 key 1: private scalar.
pub const EC1_D: &str = "6a2336dbda607c9d887dd699725837578f6ee39ed179ebae7352b3c02148df14";
/// P-256 key 1: public x.
pub const EC1_X: &str = "23854acadb13e5aac7bb085e8012e864352f3fd4b4308197044bd0fd5c48fb21";
/// P-256 key 1: public y.
pub const EC1_Y: &str = "ef6f7f546062f2a227dc00b8b45941ce581e51b002cbdf37eae0ceca0dd1a714";
/// P-256 key 2: private scalar.
pub const EC2_D: &str = "219bed35998327bb16455e8dbe56c0d4e9deeafe16a3af2404ae5fa0e222c91a";
/// P-256 key 2: public x.
pub const EC2_X: &str = "9c78b35d4862fb7d0c4ec51a35dad4dd30f7c7350f32f5c5f30b903eda5e5277";
/// P-256 key 2: public y.
pub const EC2_Y: &str = "80eac5c27f7ecf4cc863a7b5114c01e69a2a9f417baa14fe45437b4eb0106a71";
/// P-384 key: private scalar.
pub const EC3_D: &str = "e35f822011a750a7b118d2243b3f71cf63134a0878927368ac90efa1ea3e6340ff9722ade21f1ba97a9f7830ff167d49";
/// P-384 key: public x.
pub const EC3_X: &str = "e12a119ce691857f89c45f6e08d8707a1efe666ed72a02684bdc5df90877234e79dc10850010b9b381510541c55c6283";
/// P-384 key: public y.
pub const EC3_Y: &str = "8c115a1c56fb1f76b240b604946e9b854d7ca211f3889ec2fe4e6a590e42165feb2afc73c8111ce4860105d2be2e62e8";
/// ECDSA SHA-256 signature of MESSAGE by key 1: r.
pub const EC1_SIG_SHA256_R: &str =
    "2a384e78115b3e4199d23aaee6d04fd3cfbc91eadbc5b0dec9a5d300b17a7bcb";
/// ... and s.
pub const EC1_SIG_SHA256_S: &str =
    "95fc62573676cb1c7df92ab3df3ca754758817a4cef224b8dc13c8a14e5e99a3";
/// ECDSA SHA-384 signature of MESSAGE by the P-384 key: r.
pub const EC3_SIG_SHA384_R: &str = "0ced7ad0bfc24aa43cee7521e580d7eab82152d1c82bcfb38735cdd0e55809f48cb1063861b19f6a3f9cc0aa1fa349ac";
/// ... and s.
pub const EC3_SIG_SHA384_S: &str = "6b095fc8d6194b19bc7404f8dfb776dee8932c68d7c69e0675f228d7346424860498f8568b780117f72f79265e01fe2b";
/// x coordinate of EC1_D * (EC2_X, EC2_Y), by OpenSSL.
pub const ECDH_Z_EC1_EC2: &str = "feed6779b23f9ff029858b72892ed38f9e9599b46c230e588a4ba0fd78fdd3e3";
