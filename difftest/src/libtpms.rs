//! libtpms (the TPM 2.0 engine inside swtpm) in process, through its C
//! API (`libtpms/tpm_library.h`), as the reference side of the
//! differential tests. The binding follows `bench/src/libtpms.rs`.
//!
//! This is the only module of the crate with `unsafe` (FFI). libtpms is
//! a process-wide singleton, so [`Libtpms::new`] takes a process-wide lock
//! that the instance holds until it is dropped: tests that run in
//! parallel threads take turns. The NV callbacks keep libtpms's state
//! files in the in-memory map `NV`, so a [`Libtpms::restart`] (terminate
//! and init again, i.e. _TPM_Init) keeps the persistent state, as a
//! reboot does.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::Backend;

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

/// libtpms's state files ("permall", "volatilestate", "savestate").
static NV: Mutex<Option<HashMap<String, Vec<u8>>>> = Mutex::new(None);
/// Held by the one live [`Libtpms`].
static SINGLETON: Mutex<()> = Mutex::new(());
/// The locality libtpms's `tpm_io_getlocality` callback reports.
static LOCALITY: AtomicU8 = AtomicU8::new(0);

fn with_nv<R>(f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> R) -> Option<R> {
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
    let Some(Some(bytes)) = with_nv(|s| s.get(&name).cloned()) else {
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
    match with_nv(|s| s.insert(name, bytes)) {
        Some(_) => TPM_SUCCESS,
        None => TPM_FAIL,
    }
}

unsafe extern "C" fn cb_delete(_tpm_number: u32, name: *const c_char, must_exist: u8) -> TpmResult {
    // SAFETY: `name` comes from libtpms, see name_of.
    let Some(name) = (unsafe { name_of(name) }) else {
        return TPM_FAIL;
    };
    let existed = with_nv(|s| s.remove(&name).is_some()).unwrap_or(false);
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

/// A libtpms TPM 2.0 with in-memory NV. At most one lives at a time
/// (the others wait in [`Libtpms::new`]).
pub struct Libtpms {
    resp: *mut u8,
    resp_buf_size: u32,
    cmd: Vec<u8>,
    _turn: MutexGuard<'static, ()>,
}

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

impl Libtpms {
    /// Manufacture a fresh libtpms TPM 2.0 (empty NV) and power it on; the
    /// caller sends TPM2_Startup. Waits while another instance is alive.
    pub fn new() -> Self {
        let turn = SINGLETON.lock().unwrap_or_else(|e| e.into_inner());
        *NV.lock().unwrap_or_else(|e| e.into_inner()) = Some(HashMap::new());
        LOCALITY.store(0, Ordering::SeqCst);
        init();
        Libtpms {
            resp: ptr::null_mut(),
            resp_buf_size: 0,
            cmd: Vec::with_capacity(4096),
            _turn: turn,
        }
    }
}

impl Default for Libtpms {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for Libtpms {
    fn name(&self) -> &'static str {
        "libtpms"
    }

    fn execute(&mut self, cmd: &[u8]) -> Vec<u8> {
        // libtpms takes a mutable command pointer: give it our own copy.
        self.cmd.clear();
        self.cmd.extend_from_slice(cmd);
        let mut resp_size: u32 = 0;
        let len = u32::try_from(self.cmd.len()).unwrap_or(u32::MAX);
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

    fn restart(&mut self) {
        // SAFETY: terminate and initialize the singleton again; the NV
        // files stay in `NV`, so this is a _TPM_Init with state kept.
        unsafe { TPMLIB_Terminate() };
        init();
    }

    fn set_locality(&mut self, locality: u8) {
        LOCALITY.store(locality, Ordering::SeqCst);
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
    }
}
