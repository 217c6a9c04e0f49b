//! libtpms (the TPM 2.0 engine inside swtpm) in process, through its C
//! API (`libtpms/tpm_library.h`): the in-process peer of the engine
//! benchmark (vtpm-bench) and the reference side of the differential
//! tests (vtpm-difftest). Each of them wraps [`Libtpms`] in its own
//! backend trait.
//!
//! This crate is the FFI binding and nothing else; it is the only place
//! those two crates call libtpms with `unsafe`. libtpms is a process-wide
//! singleton, so a [`Libtpms`] holds a process-wide lock until it is
//! dropped: [`Libtpms::new`] waits for its turn, [`Libtpms::try_new`]
//! declines. The NV callbacks keep libtpms's state files ("permall",
//! "volatilestate", "savestate") in the in-memory map `NV`, so a
//! [`Libtpms::restart`] (terminate and init again, i.e. _TPM_Init) keeps
//! the persistent state, as a reboot does. An optional store hook sees
//! every state file libtpms stores (the benchmark writes them durably).

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::io;
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

type TpmResult = u32;
const TPM_SUCCESS: TpmResult = 0;
const TPM_FAIL: TpmResult = 9;
/// "No such state yet": libtpms manufactures a new TPM.
const TPM_RETRY: TpmResult = 0x800;
/// `TPMLIB_TPM_VERSION_2` of `enum TPMLIB_TPMVersion`.
const TPMLIB_TPM_VERSION_2: c_int = 1;

/// `struct libtpms_callbacks` (libtpms/tpm_library.h).
#[repr(C)]
struct LibtpmsCallbacks {
    size_of_struct: c_int,
    tpm_nvram_init: Option<extern "C" fn() -> TpmResult>,
    tpm_nvram_loaddata:
        Option<unsafe extern "C" fn(*mut *mut u8, *mut u32, u32, *const c_char) -> TpmResult>,
    tpm_nvram_storedata:
        Option<unsafe extern "C" fn(*const u8, u32, u32, *const c_char) -> TpmResult>,
    tpm_nvram_deletename: Option<unsafe extern "C" fn(u32, *const c_char, u8) -> TpmResult>,
    tpm_io_init: Option<extern "C" fn() -> TpmResult>,
    tpm_io_getlocality: Option<unsafe extern "C" fn(*mut u32, u32) -> TpmResult>,
    tpm_io_getphysicalpresence: Option<unsafe extern "C" fn(*mut u8, u32) -> TpmResult>,
}

extern "C" {
    fn TPMLIB_ChooseTPMVersion(ver: c_int) -> TpmResult;
    fn TPMLIB_RegisterCallbacks(cbs: *mut LibtpmsCallbacks) -> TpmResult;
    fn TPMLIB_MainInit() -> TpmResult;
    fn TPMLIB_Terminate();
    fn TPMLIB_Process(
        respbuffer: *mut *mut u8,
        resp_size: *mut u32,
        respbufsize: *mut u32,
        command: *mut u8,
        command_size: u32,
    ) -> TpmResult;
    fn malloc(size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

/// Called with the name and the bytes of every state file libtpms stores,
/// before it is kept in memory; an error fails the store (libtpms sees
/// `TPM_FAIL`).
pub type StoreHook = Box<dyn FnMut(&str, &[u8]) -> io::Result<()> + Send>;

/// The NV store behind the callbacks.
struct NvStore {
    files: HashMap<String, Vec<u8>>,
    on_store: Option<StoreHook>,
    /// Store callbacks so far.
    stores: u64,
}

static NV: Mutex<Option<NvStore>> = Mutex::new(None);
/// Held by the one live [`Libtpms`].
static SINGLETON: Mutex<()> = Mutex::new(());
/// The locality libtpms's `tpm_io_getlocality` callback reports.
static LOCALITY: AtomicU8 = AtomicU8::new(0);

fn with_nv<R>(f: impl FnOnce(&mut NvStore) -> R) -> Option<R> {
    let mut g = NV.lock().unwrap_or_else(|e| e.into_inner());
    g.as_mut().map(f)
}

/// # Safety
/// `name` is a NUL-terminated string from libtpms (or null).
unsafe fn name_of(name: *const c_char) -> Option<String> {
    if name.is_null() {
        return None;
    }
    // SAFETY: libtpms passes a valid NUL-terminated string, alive for the call.
    Some(
        unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned(),
    )
}

extern "C" fn cb_ok() -> TpmResult {
    TPM_SUCCESS
}

/// libtpms asks for a state file; it frees the buffer with `free`, so it
/// is allocated with `malloc`.
unsafe extern "C" fn cb_load(
    data: *mut *mut u8,
    length: *mut u32,
    _tpm_number: u32,
    name: *const c_char,
) -> TpmResult {
    // SAFETY: `name` comes from libtpms, see name_of.
    let Some(name) = (unsafe { name_of(name) }) else {
        return TPM_FAIL;
    };
    let Some(Some(bytes)) = with_nv(|s| s.files.get(&name).cloned()) else {
        return TPM_RETRY;
    };
    let Ok(len) = u32::try_from(bytes.len()) else {
        return TPM_FAIL;
    };
    // SAFETY: malloc of at least one byte; checked for null below.
    let buf = unsafe { malloc(bytes.len().max(1)) } as *mut u8;
    if buf.is_null() {
        return TPM_FAIL;
    }
    // SAFETY: `buf` has room for `bytes.len()` bytes and does not overlap
    // `bytes`; `data` and `length` are valid out-pointers from libtpms.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        *data = buf;
        *length = len;
    }
    TPM_SUCCESS
}

unsafe extern "C" fn cb_store(
    data: *const u8,
    length: u32,
    _tpm_number: u32,
    name: *const c_char,
) -> TpmResult {
    // SAFETY: `name` comes from libtpms, see name_of.
    let Some(name) = (unsafe { name_of(name) }) else {
        return TPM_FAIL;
    };
    let bytes = if length == 0 || data.is_null() {
        Vec::new()
    } else {
        // SAFETY: libtpms passes `length` readable bytes at `data`.
        unsafe { std::slice::from_raw_parts(data, length as usize) }.to_vec()
    };
    let ok = with_nv(|s| {
        s.stores += 1;
        if let Some(hook) = &mut s.on_store {
            if hook(&name, &bytes).is_err() {
                return false;
            }
        }
        s.files.insert(name, bytes);
        true
    });
    if ok == Some(true) {
        TPM_SUCCESS
    } else {
        TPM_FAIL
    }
}

unsafe extern "C" fn cb_delete(_tpm_number: u32, name: *const c_char, must_exist: u8) -> TpmResult {
    // SAFETY: `name` comes from libtpms, see name_of.
    let Some(name) = (unsafe { name_of(name) }) else {
        return TPM_FAIL;
    };
    let existed = with_nv(|s| s.files.remove(&name).is_some()).unwrap_or(false);
    if existed || must_exist == 0 {
        TPM_SUCCESS
    } else {
        TPM_FAIL
    }
}

unsafe extern "C" fn cb_locality(loc: *mut u32, _tpm_number: u32) -> TpmResult {
    // SAFETY: libtpms passes a valid out-pointer.
    unsafe { *loc = u32::from(LOCALITY.load(Ordering::SeqCst)) };
    TPM_SUCCESS
}

unsafe extern "C" fn cb_pp(pp: *mut u8, _tpm_number: u32) -> TpmResult {
    // SAFETY: libtpms passes a valid out-pointer.
    unsafe { *pp = 0 };
    TPM_SUCCESS
}

/// Choose TPM 2.0, register the callbacks, initialize (_TPM_Init).
fn init() {
    let mut cbs = LibtpmsCallbacks {
        size_of_struct: std::mem::size_of::<LibtpmsCallbacks>() as c_int,
        tpm_nvram_init: Some(cb_ok),
        tpm_nvram_loaddata: Some(cb_load),
        tpm_nvram_storedata: Some(cb_store),
        tpm_nvram_deletename: Some(cb_delete),
        tpm_io_init: Some(cb_ok),
        tpm_io_getlocality: Some(cb_locality),
        tpm_io_getphysicalpresence: Some(cb_pp),
    };
    // SAFETY: plain library calls in the order the API documents (choose
    // version, register callbacks, init); libtpms copies `cbs` during the
    // call and the callbacks are 'static functions.
    unsafe {
        let rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2);
        assert_eq!(rc, TPM_SUCCESS, "TPMLIB_ChooseTPMVersion");
        let rc = TPMLIB_RegisterCallbacks(&mut cbs);
        assert_eq!(rc, TPM_SUCCESS, "TPMLIB_RegisterCallbacks");
        let rc = TPMLIB_MainInit();
        assert_eq!(rc, TPM_SUCCESS, "TPMLIB_MainInit");
    }
}

/// A libtpms TPM 2.0 with in-memory NV (plus the store hook, if any). At
/// most one lives at a time.
pub struct Libtpms {
    resp: *mut u8,
    resp_buf_size: u32,
    cmd: Vec<u8>,
    _turn: MutexGuard<'static, ()>,
}

impl Libtpms {
    /// Manufacture a fresh libtpms TPM 2.0 (empty NV) and power it on; the
    /// caller sends TPM2_Startup. Waits while another instance is alive.
    pub fn new() -> Self {
        let turn = SINGLETON.lock().unwrap_or_else(|e| e.into_inner());
        Self::start(turn, None)
    }

    /// As [`Libtpms::new`], with `on_store` called on every state file
    /// libtpms stores; `None` (without waiting) while another instance is
    /// alive.
    pub fn try_new(on_store: Option<StoreHook>) -> Option<Self> {
        let turn = match SINGLETON.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(Self::start(turn, on_store))
    }

    fn start(turn: MutexGuard<'static, ()>, on_store: Option<StoreHook>) -> Self {
        *NV.lock().unwrap_or_else(|e| e.into_inner()) = Some(NvStore {
            files: HashMap::new(),
            on_store,
            stores: 0,
        });
        LOCALITY.store(0, Ordering::SeqCst);
        init();
        Libtpms {
            resp: ptr::null_mut(),
            resp_buf_size: 0,
            cmd: Vec::with_capacity(4096),
            _turn: turn,
        }
    }

    /// Execute one command (`TPMLIB_Process`), return its response.
    pub fn process(&mut self, cmd: &[u8]) -> Vec<u8> {
        // libtpms takes a mutable command pointer: give it our own copy.
        self.cmd.clear();
        self.cmd.extend_from_slice(cmd);
        let mut resp_size: u32 = 0;
        let len = u32::try_from(self.cmd.len()).expect("command longer than 4 GiB");
        // SAFETY: `self.resp`/`self.resp_buf_size` are null/0 or the
        // buffer libtpms itself (re)allocated on an earlier call; the
        // command pointer is valid for `len` bytes.
        let rc = unsafe {
            TPMLIB_Process(
                &mut self.resp,
                &mut resp_size,
                &mut self.resp_buf_size,
                self.cmd.as_mut_ptr(),
                len,
            )
        };
        assert_eq!(rc, TPM_SUCCESS, "TPMLIB_Process");
        assert!(!self.resp.is_null() && resp_size <= self.resp_buf_size);
        // SAFETY: libtpms wrote `resp_size` bytes into its buffer.
        unsafe { std::slice::from_raw_parts(self.resp, resp_size as usize) }.to_vec()
    }

    /// _TPM_Init: terminate and initialize again; the state files stay in
    /// memory, so the persistent state is kept. TPM2_Startup comes next.
    pub fn restart(&mut self) {
        // SAFETY: terminate the singleton this instance holds; `init`
        // brings it up again over the same NV files.
        unsafe { TPMLIB_Terminate() };
        init();
    }

    /// Locality the following commands come from.
    pub fn set_locality(&mut self, locality: u8) {
        LOCALITY.store(locality, Ordering::SeqCst);
    }

    /// Size of the stored state file `name` ("permall": the permanent
    /// state), bytes; `None` if libtpms has not stored it.
    pub fn state_file_len(&self, name: &str) -> Option<usize> {
        with_nv(|s| s.files.get(name).map(Vec::len)).flatten()
    }

    /// State files stored so far (store callbacks, successful or not).
    pub fn stores(&self) -> u64 {
        with_nv(|s| s.stores).unwrap_or(0)
    }
}

impl Default for Libtpms {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Libtpms {
    fn drop(&mut self) {
        // SAFETY: terminate the singleton, then free the response buffer
        // libtpms allocated with malloc (free(NULL) is a no-op).
        unsafe {
            TPMLIB_Terminate();
            free(self.resp as *mut c_void);
        }
        self.resp = ptr::null_mut();
        *NV.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // `_turn` is released after this: the next instance may start.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// TPM2_Startup(CLEAR).
    const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];

    fn rc(rsp: &[u8]) -> u32 {
        u32::from_be_bytes(rsp[6..10].try_into().unwrap())
    }

    /// The one test of this crate, so nothing else holds libtpms.
    #[test]
    fn singleton_store_hook_and_restart() {
        let stored = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = stored.clone();
        let hook: StoreHook = Box::new(move |name, _| {
            log.lock().unwrap().push(name.to_string());
            Ok(())
        });
        let mut t = Libtpms::try_new(Some(hook)).expect("libtpms is free");
        // Manufacturing stores the first state files.
        let manufactured = t.stores();
        assert!(Libtpms::try_new(None).is_none(), "a second instance");
        assert_eq!(rc(&t.process(&STARTUP_CLEAR)), 0);
        // A second Startup is TPM_RC_INITIALIZE.
        assert_eq!(rc(&t.process(&STARTUP_CLEAR)), 0x100);
        assert!(t.state_file_len("permall").unwrap_or(0) > 0);
        assert!(t.stores() > manufactured);
        assert!(
            stored.lock().unwrap().iter().any(|n| n == "permall"),
            "{stored:?}"
        );
        // _TPM_Init: Startup is accepted again.
        t.restart();
        assert_eq!(rc(&t.process(&STARTUP_CLEAR)), 0);
        drop(t);
        // A fresh TPM: manufactured again, the counter starts over.
        let t = Libtpms::new();
        assert_eq!(t.stores(), manufactured);
    }
}
