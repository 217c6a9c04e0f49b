//! libtpms (the TPM inside swtpm) called directly through its C API, the
//! in-process peer of the engine benchmark.
//!
//! This is the only module of the crate with FFI `unsafe` (the counting
//! allocator in `alloc.rs` is the other use of `unsafe`, for `GlobalAlloc`).
//! libtpms is a process-wide singleton, so at most one [`Libtpms`] lives at
//! a time (checked with `ACTIVE`); its NV callbacks store into the global
//! `NV` map, and in the fsync variant also into files, durably.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::backend::{durable_write, Backend};

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

/// glibc's `struct mallinfo2`.
#[repr(C)]
#[derive(Default)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
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
    fn mallinfo2() -> MallInfo2;
}

/// The NV store behind the callbacks.
struct NvStore {
    files: HashMap<String, Vec<u8>>,
    durable: Option<PathBuf>,
    stores: u64,
}

static NV: Mutex<Option<NvStore>> = Mutex::new(None);
static ACTIVE: AtomicBool = AtomicBool::new(false);

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
        *length = bytes.len() as u32;
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
    let bytes = if length == 0 {
        Vec::new()
    } else {
        // SAFETY: libtpms passes `length` readable bytes at `data`.
        unsafe { std::slice::from_raw_parts(data, length as usize) }.to_vec()
    };
    let ok = with_nv(|s| {
        s.stores += 1;
        if let Some(dir) = &s.durable {
            if durable_write(dir, &name, &bytes).is_err() {
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
    unsafe { *loc = 0 };
    TPM_SUCCESS
}

unsafe extern "C" fn cb_pp(pp: *mut u8, _tpm_number: u32) -> TpmResult {
    // SAFETY: libtpms passes a valid out-pointer.
    unsafe { *pp = 0 };
    TPM_SUCCESS
}

/// Bytes malloc'ed and in use in the whole process (glibc `mallinfo2`):
/// libtpms allocates with malloc, outside the Rust counting allocator.
pub fn malloc_in_use() -> usize {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct.
    let mi = unsafe { mallinfo2() };
    mi.uordblks + mi.hblkhd
}

/// libtpms, initialized as a TPM 2.0 with in-memory (or fsynced) NV.
pub struct Libtpms {
    resp: *mut u8,
    resp_buf_size: u32,
    cmd: Vec<u8>,
    label: String,
}

impl Libtpms {
    /// Manufacture a fresh libtpms TPM 2.0 (the caller sends TPM2_Startup).
    pub fn new(durable: Option<PathBuf>) -> Self {
        assert!(
            !ACTIVE.swap(true, Ordering::SeqCst),
            "libtpms is a singleton: one instance at a time"
        );
        if let Some(d) = &durable {
            std::fs::create_dir_all(d).expect("create libtpms state directory");
        }
        let label = if durable.is_some() {
            "libtpms+fsync"
        } else {
            "libtpms"
        }
        .to_string();
        *NV.lock().unwrap_or_else(|e| e.into_inner()) = Some(NvStore {
            files: HashMap::new(),
            durable,
            stores: 0,
        });
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
        // SAFETY: plain library calls in the order the API documents
        // (choose version, register callbacks, init); `cbs` is copied by
        // libtpms during the call and the callbacks are 'static functions.
        unsafe {
            let rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2);
            assert_eq!(rc, TPM_SUCCESS, "TPMLIB_ChooseTPMVersion");
            let rc = TPMLIB_RegisterCallbacks(&mut cbs);
            assert_eq!(rc, TPM_SUCCESS, "TPMLIB_RegisterCallbacks");
            let rc = TPMLIB_MainInit();
            assert_eq!(rc, TPM_SUCCESS, "TPMLIB_MainInit");
        }
        Libtpms {
            resp: ptr::null_mut(),
            resp_buf_size: 0,
            cmd: Vec::with_capacity(4096),
            label,
        }
    }

    /// Size of the stored permanent state ("permall"), bytes.
    pub fn permall_size(&self) -> usize {
        with_nv(|s| s.files.get("permall").map_or(0, Vec::len)).unwrap_or(0)
    }
}

impl Backend for Libtpms {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn exec(&mut self, cmd: &[u8]) -> Vec<u8> {
        // libtpms takes a mutable command pointer: give it our own copy.
        self.cmd.clear();
        self.cmd.extend_from_slice(cmd);
        let mut resp_size: u32 = 0;
        // SAFETY: `self.resp`/`self.resp_buf_size` are null/0 or the
        // buffer libtpms itself (re)allocated on an earlier call; the
        // command pointer is valid for `cmd.len()` bytes.
        let rc = unsafe {
            TPMLIB_Process(
                &mut self.resp,
                &mut resp_size,
                &mut self.resp_buf_size,
                self.cmd.as_mut_ptr(),
                self.cmd.len() as u32,
            )
        };
        assert_eq!(rc, TPM_SUCCESS, "TPMLIB_Process");
        assert!(!self.resp.is_null() && resp_size <= self.resp_buf_size);
        // SAFETY: libtpms wrote `resp_size` bytes into its buffer.
        unsafe { std::slice::from_raw_parts(self.resp, resp_size as usize) }.to_vec()
    }
    fn commits(&self) -> Option<u64> {
        with_nv(|s| s.stores)
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
        ACTIVE.store(false, Ordering::SeqCst);
    }
}
