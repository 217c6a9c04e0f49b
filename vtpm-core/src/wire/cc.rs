//! Command codes (Part 2, 6.5.2 `TPM_CC`), from the v185 table.

use super::CommandCode;

/// `TPM_CC_NV_UndefineSpaceSpecial`
pub const NV_UNDEFINESPACESPECIAL: CommandCode = CommandCode(0x0000011F);
/// `TPM_CC_EvictControl`
pub const EVICTCONTROL: CommandCode = CommandCode(0x00000120);
/// `TPM_CC_HierarchyControl`
pub const HIERARCHYCONTROL: CommandCode = CommandCode(0x00000121);
/// `TPM_CC_NV_UndefineSpace`
pub const NV_UNDEFINESPACE: CommandCode = CommandCode(0x00000122);
/// `TPM_CC_ChangeEPS`
pub const CHANGEEPS: CommandCode = CommandCode(0x00000124);
/// `TPM_CC_ChangePPS`
pub const CHANGEPPS: CommandCode = CommandCode(0x00000125);
/// `TPM_CC_Clear`
pub const CLEAR: CommandCode = CommandCode(0x00000126);
/// `TPM_CC_ClearControl`
pub const CLEARCONTROL: CommandCode = CommandCode(0x00000127);
/// `TPM_CC_ClockSet`
pub const CLOCKSET: CommandCode = CommandCode(0x00000128);
/// `TPM_CC_HierarchyChangeAuth`
pub const HIERARCHYCHANGEAUTH: CommandCode = CommandCode(0x00000129);
/// `TPM_CC_NV_DefineSpace`
pub const NV_DEFINESPACE: CommandCode = CommandCode(0x0000012A);
/// `TPM_CC_PCR_Allocate`
pub const PCR_ALLOCATE: CommandCode = CommandCode(0x0000012B);
/// `TPM_CC_PCR_SetAuthPolicy`
pub const PCR_SETAUTHPOLICY: CommandCode = CommandCode(0x0000012C);
/// `TPM_CC_PP_Commands`
pub const PP_COMMANDS: CommandCode = CommandCode(0x0000012D);
/// `TPM_CC_SetPrimaryPolicy`
pub const SETPRIMARYPOLICY: CommandCode = CommandCode(0x0000012E);
/// `TPM_CC_FieldUpgradeStart`
pub const FIELDUPGRADESTART: CommandCode = CommandCode(0x0000012F);
/// `TPM_CC_ClockRateAdjust`
pub const CLOCKRATEADJUST: CommandCode = CommandCode(0x00000130);
/// `TPM_CC_CreatePrimary`
pub const CREATEPRIMARY: CommandCode = CommandCode(0x00000131);
/// `TPM_CC_NV_GlobalWriteLock`
pub const NV_GLOBALWRITELOCK: CommandCode = CommandCode(0x00000132);
/// `TPM_CC_GetCommandAuditDigest`
pub const GETCOMMANDAUDITDIGEST: CommandCode = CommandCode(0x00000133);
/// `TPM_CC_NV_Increment`
pub const NV_INCREMENT: CommandCode = CommandCode(0x00000134);
/// `TPM_CC_NV_SetBits`
pub const NV_SETBITS: CommandCode = CommandCode(0x00000135);
/// `TPM_CC_NV_Extend`
pub const NV_EXTEND: CommandCode = CommandCode(0x00000136);
/// `TPM_CC_NV_Write`
pub const NV_WRITE: CommandCode = CommandCode(0x00000137);
/// `TPM_CC_NV_WriteLock`
pub const NV_WRITELOCK: CommandCode = CommandCode(0x00000138);
/// `TPM_CC_DictionaryAttackLockReset`
pub const DICTIONARYATTACKLOCKRESET: CommandCode = CommandCode(0x00000139);
/// `TPM_CC_DictionaryAttackParameters`
pub const DICTIONARYATTACKPARAMETERS: CommandCode = CommandCode(0x0000013A);
/// `TPM_CC_NV_ChangeAuth`
pub const NV_CHANGEAUTH: CommandCode = CommandCode(0x0000013B);
/// `TPM_CC_PCR_Event`
pub const PCR_EVENT: CommandCode = CommandCode(0x0000013C);
/// `TPM_CC_PCR_Reset`
pub const PCR_RESET: CommandCode = CommandCode(0x0000013D);
/// `TPM_CC_SequenceComplete`
pub const SEQUENCECOMPLETE: CommandCode = CommandCode(0x0000013E);
/// `TPM_CC_SetAlgorithmSet`
pub const SETALGORITHMSET: CommandCode = CommandCode(0x0000013F);
/// `TPM_CC_SetCommandCodeAuditStatus`
pub const SETCOMMANDCODEAUDITSTATUS: CommandCode = CommandCode(0x00000140);
/// `TPM_CC_FieldUpgradeData`
pub const FIELDUPGRADEDATA: CommandCode = CommandCode(0x00000141);
/// `TPM_CC_IncrementalSelfTest`
pub const INCREMENTALSELFTEST: CommandCode = CommandCode(0x00000142);
/// `TPM_CC_SelfTest`
pub const SELFTEST: CommandCode = CommandCode(0x00000143);
/// `TPM_CC_Startup`
pub const STARTUP: CommandCode = CommandCode(0x00000144);
/// `TPM_CC_Shutdown`
pub const SHUTDOWN: CommandCode = CommandCode(0x00000145);
/// `TPM_CC_StirRandom`
pub const STIRRANDOM: CommandCode = CommandCode(0x00000146);
/// `TPM_CC_ActivateCredential`
pub const ACTIVATECREDENTIAL: CommandCode = CommandCode(0x00000147);
/// `TPM_CC_Certify`
pub const CERTIFY: CommandCode = CommandCode(0x00000148);
/// `TPM_CC_PolicyNV`
pub const POLICYNV: CommandCode = CommandCode(0x00000149);
/// `TPM_CC_CertifyCreation`
pub const CERTIFYCREATION: CommandCode = CommandCode(0x0000014A);
/// `TPM_CC_Duplicate`
pub const DUPLICATE: CommandCode = CommandCode(0x0000014B);
/// `TPM_CC_GetTime`
pub const GETTIME: CommandCode = CommandCode(0x0000014C);
/// `TPM_CC_GetSessionAuditDigest`
pub const GETSESSIONAUDITDIGEST: CommandCode = CommandCode(0x0000014D);
/// `TPM_CC_NV_Read`
pub const NV_READ: CommandCode = CommandCode(0x0000014E);
/// `TPM_CC_NV_ReadLock`
pub const NV_READLOCK: CommandCode = CommandCode(0x0000014F);
/// `TPM_CC_ObjectChangeAuth`
pub const OBJECTCHANGEAUTH: CommandCode = CommandCode(0x00000150);
/// `TPM_CC_PolicySecret`
pub const POLICYSECRET: CommandCode = CommandCode(0x00000151);
/// `TPM_CC_Rewrap`
pub const REWRAP: CommandCode = CommandCode(0x00000152);
/// `TPM_CC_Create`
pub const CREATE: CommandCode = CommandCode(0x00000153);
/// `TPM_CC_ECDH_ZGen`
pub const ECDH_ZGEN: CommandCode = CommandCode(0x00000154);
/// `TPM_CC_HMAC`
pub const HMAC: CommandCode = CommandCode(0x00000155);
/// `TPM_CC_MAC`
pub const MAC: CommandCode = CommandCode(0x00000155);
/// `TPM_CC_Import`
pub const IMPORT: CommandCode = CommandCode(0x00000156);
/// `TPM_CC_Load`
pub const LOAD: CommandCode = CommandCode(0x00000157);
/// `TPM_CC_Quote`
pub const QUOTE: CommandCode = CommandCode(0x00000158);
/// `TPM_CC_RSA_Decrypt`
pub const RSA_DECRYPT: CommandCode = CommandCode(0x00000159);
/// `TPM_CC_HMAC_Start`
pub const HMAC_START: CommandCode = CommandCode(0x0000015B);
/// `TPM_CC_MAC_Start`
pub const MAC_START: CommandCode = CommandCode(0x0000015B);
/// `TPM_CC_SequenceUpdate`
pub const SEQUENCEUPDATE: CommandCode = CommandCode(0x0000015C);
/// `TPM_CC_Sign`
pub const SIGN: CommandCode = CommandCode(0x0000015D);
/// `TPM_CC_Unseal`
pub const UNSEAL: CommandCode = CommandCode(0x0000015E);
/// `TPM_CC_PolicySigned`
pub const POLICYSIGNED: CommandCode = CommandCode(0x00000160);
/// `TPM_CC_ContextLoad`
pub const CONTEXTLOAD: CommandCode = CommandCode(0x00000161);
/// `TPM_CC_ContextSave`
pub const CONTEXTSAVE: CommandCode = CommandCode(0x00000162);
/// `TPM_CC_ECDH_KeyGen`
pub const ECDH_KEYGEN: CommandCode = CommandCode(0x00000163);
/// `TPM_CC_EncryptDecrypt`
pub const ENCRYPTDECRYPT: CommandCode = CommandCode(0x00000164);
/// `TPM_CC_FlushContext`
pub const FLUSHCONTEXT: CommandCode = CommandCode(0x00000165);
/// `TPM_CC_LoadExternal`
pub const LOADEXTERNAL: CommandCode = CommandCode(0x00000167);
/// `TPM_CC_MakeCredential`
pub const MAKECREDENTIAL: CommandCode = CommandCode(0x00000168);
/// `TPM_CC_NV_ReadPublic`
pub const NV_READPUBLIC: CommandCode = CommandCode(0x00000169);
/// `TPM_CC_PolicyAuthorize`
pub const POLICYAUTHORIZE: CommandCode = CommandCode(0x0000016A);
/// `TPM_CC_PolicyAuthValue`
pub const POLICYAUTHVALUE: CommandCode = CommandCode(0x0000016B);
/// `TPM_CC_PolicyCommandCode`
pub const POLICYCOMMANDCODE: CommandCode = CommandCode(0x0000016C);
/// `TPM_CC_PolicyCounterTimer`
pub const POLICYCOUNTERTIMER: CommandCode = CommandCode(0x0000016D);
/// `TPM_CC_PolicyCpHash`
pub const POLICYCPHASH: CommandCode = CommandCode(0x0000016E);
/// `TPM_CC_PolicyLocality`
pub const POLICYLOCALITY: CommandCode = CommandCode(0x0000016F);
/// `TPM_CC_PolicyNameHash`
pub const POLICYNAMEHASH: CommandCode = CommandCode(0x00000170);
/// `TPM_CC_PolicyOR`
pub const POLICYOR: CommandCode = CommandCode(0x00000171);
/// `TPM_CC_PolicyTicket`
pub const POLICYTICKET: CommandCode = CommandCode(0x00000172);
/// `TPM_CC_ReadPublic`
pub const READPUBLIC: CommandCode = CommandCode(0x00000173);
/// `TPM_CC_RSA_Encrypt`
pub const RSA_ENCRYPT: CommandCode = CommandCode(0x00000174);
/// `TPM_CC_StartAuthSession`
pub const STARTAUTHSESSION: CommandCode = CommandCode(0x00000176);
/// `TPM_CC_VerifySignature`
pub const VERIFYSIGNATURE: CommandCode = CommandCode(0x00000177);
/// `TPM_CC_ECC_Parameters`
pub const ECC_PARAMETERS: CommandCode = CommandCode(0x00000178);
/// `TPM_CC_FirmwareRead`
pub const FIRMWAREREAD: CommandCode = CommandCode(0x00000179);
/// `TPM_CC_GetCapability`
pub const GETCAPABILITY: CommandCode = CommandCode(0x0000017A);
/// `TPM_CC_GetRandom`
pub const GETRANDOM: CommandCode = CommandCode(0x0000017B);
/// `TPM_CC_GetTestResult`
pub const GETTESTRESULT: CommandCode = CommandCode(0x0000017C);
/// `TPM_CC_Hash`
pub const HASH: CommandCode = CommandCode(0x0000017D);
/// `TPM_CC_PCR_Read`
pub const PCR_READ: CommandCode = CommandCode(0x0000017E);
/// `TPM_CC_PolicyPCR`
pub const POLICYPCR: CommandCode = CommandCode(0x0000017F);
/// `TPM_CC_PolicyRestart`
pub const POLICYRESTART: CommandCode = CommandCode(0x00000180);
/// `TPM_CC_ReadClock`
pub const READCLOCK: CommandCode = CommandCode(0x00000181);
/// `TPM_CC_PCR_Extend`
pub const PCR_EXTEND: CommandCode = CommandCode(0x00000182);
/// `TPM_CC_PCR_SetAuthValue`
pub const PCR_SETAUTHVALUE: CommandCode = CommandCode(0x00000183);
/// `TPM_CC_NV_Certify`
pub const NV_CERTIFY: CommandCode = CommandCode(0x00000184);
/// `TPM_CC_EventSequenceComplete`
pub const EVENTSEQUENCECOMPLETE: CommandCode = CommandCode(0x00000185);
/// `TPM_CC_HashSequenceStart`
pub const HASHSEQUENCESTART: CommandCode = CommandCode(0x00000186);
/// `TPM_CC_PolicyPhysicalPresence`
pub const POLICYPHYSICALPRESENCE: CommandCode = CommandCode(0x00000187);
/// `TPM_CC_PolicyDuplicationSelect`
pub const POLICYDUPLICATIONSELECT: CommandCode = CommandCode(0x00000188);
/// `TPM_CC_PolicyGetDigest`
pub const POLICYGETDIGEST: CommandCode = CommandCode(0x00000189);
/// `TPM_CC_TestParms`
pub const TESTPARMS: CommandCode = CommandCode(0x0000018A);
/// `TPM_CC_Commit`
pub const COMMIT: CommandCode = CommandCode(0x0000018B);
/// `TPM_CC_PolicyPassword`
pub const POLICYPASSWORD: CommandCode = CommandCode(0x0000018C);
/// `TPM_CC_ZGen_2Phase`
pub const ZGEN_2PHASE: CommandCode = CommandCode(0x0000018D);
/// `TPM_CC_EC_Ephemeral`
pub const EC_EPHEMERAL: CommandCode = CommandCode(0x0000018E);
/// `TPM_CC_PolicyNvWritten`
pub const POLICYNVWRITTEN: CommandCode = CommandCode(0x0000018F);
/// `TPM_CC_PolicyTemplate`
pub const POLICYTEMPLATE: CommandCode = CommandCode(0x00000190);
/// `TPM_CC_CreateLoaded`
pub const CREATELOADED: CommandCode = CommandCode(0x00000191);
/// `TPM_CC_PolicyAuthorizeNV`
pub const POLICYAUTHORIZENV: CommandCode = CommandCode(0x00000192);
/// `TPM_CC_EncryptDecrypt2`
pub const ENCRYPTDECRYPT2: CommandCode = CommandCode(0x00000193);
/// `TPM_CC_AC_GetCapability`
pub const AC_GETCAPABILITY: CommandCode = CommandCode(0x00000194);
/// `TPM_CC_AC_Send`
pub const AC_SEND: CommandCode = CommandCode(0x00000195);
/// `TPM_CC_Policy_AC_SendSelect`
pub const POLICY_AC_SENDSELECT: CommandCode = CommandCode(0x00000196);
/// `TPM_CC_CertifyX509`
pub const CERTIFYX509: CommandCode = CommandCode(0x00000197);
/// `TPM_CC_ACT_SetTimeout`
pub const ACT_SETTIMEOUT: CommandCode = CommandCode(0x00000198);
/// `TPM_CC_ECC_Encrypt`
pub const ECC_ENCRYPT: CommandCode = CommandCode(0x00000199);
/// `TPM_CC_ECC_Decrypt`
pub const ECC_DECRYPT: CommandCode = CommandCode(0x0000019A);
/// `TPM_CC_PolicyCapability`
pub const POLICYCAPABILITY: CommandCode = CommandCode(0x0000019B);
/// `TPM_CC_PolicyParameters`
pub const POLICYPARAMETERS: CommandCode = CommandCode(0x0000019C);
/// `TPM_CC_NV_DefineSpace2`
pub const NV_DEFINESPACE2: CommandCode = CommandCode(0x0000019D);
/// `TPM_CC_NV_ReadPublic2`
pub const NV_READPUBLIC2: CommandCode = CommandCode(0x0000019E);
/// `TPM_CC_SetCapability`
pub const SETCAPABILITY: CommandCode = CommandCode(0x0000019F);
/// `TPM_CC_ReadOnlyControl`
pub const READONLYCONTROL: CommandCode = CommandCode(0x000001A0);
/// `TPM_CC_PolicyTransportSPDM`
pub const POLICYTRANSPORTSPDM: CommandCode = CommandCode(0x000001A1);
/// `TPM_CC_VerifySequenceComplete`
pub const VERIFYSEQUENCECOMPLETE: CommandCode = CommandCode(0x000001A3);
/// `TPM_CC_SignSequenceComplete`
pub const SIGNSEQUENCECOMPLETE: CommandCode = CommandCode(0x000001A4);
/// `TPM_CC_VerifyDigestSignature`
pub const VERIFYDIGESTSIGNATURE: CommandCode = CommandCode(0x000001A5);
/// `TPM_CC_SignDigest`
pub const SIGNDIGEST: CommandCode = CommandCode(0x000001A6);
/// `TPM_CC_Encapsulate`
pub const ENCAPSULATE: CommandCode = CommandCode(0x000001A7);
/// `TPM_CC_Decapsulate`
pub const DECAPSULATE: CommandCode = CommandCode(0x000001A8);
/// `TPM_CC_VerifySequenceStart`
pub const VERIFYSEQUENCESTART: CommandCode = CommandCode(0x000001A9);
/// `TPM_CC_SignSequenceStart`
pub const SIGNSEQUENCESTART: CommandCode = CommandCode(0x000001AA);
/// `TPM_CC_Vendor_TCG_Test` (Part 2, 6.5.2: the vendor-specific test command).
pub const VENDOR_TCG_TEST: CommandCode = CommandCode(0x2000_0000);
