//! Limits and choices, in one place, reported truthfully by GetCapability.

/// Engine configuration. [`Config::default`] gives the values the host
/// simulator and the SVSM use unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Largest command accepted (`TPM_PT_MAX_COMMAND_SIZE`); at most 4087
    /// so a command fits the SVSM page with its 9-byte header.
    pub max_command_size: usize,
    /// Largest response produced (`TPM_PT_MAX_RESPONSE_SIZE`).
    pub max_response_size: usize,
    /// Loaded transient objects (`TPM_PT_HR_TRANSIENT_MIN`). The PC client
    /// minimum is 3; tpm2-tools used without a resource manager never
    /// flush, so the default is generous (128). Memory is only used by
    /// objects actually loaded (about 1-3 KiB each).
    pub max_loaded_objects: usize,
    /// Loaded sessions (`TPM_PT_HR_LOADED_MIN`).
    pub max_loaded_sessions: usize,
    /// Active (loaded or saved) sessions (`TPM_PT_ACTIVE_SESSIONS_MAX`).
    pub max_active_sessions: usize,
    /// NV capacity in bytes shared by NV indices and persistent objects.
    pub nv_capacity: usize,
    /// Persistent objects (`TPM_PT_HR_PERSISTENT_MIN`).
    pub max_persistent_objects: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_command_size: 4087,
            max_response_size: 4092,
            max_loaded_objects: 128,
            max_loaded_sessions: 16,
            max_active_sessions: 64,
            nv_capacity: 64 * 1024,
            max_persistent_objects: 16,
        }
    }
}
