//! What rolecall asks the operating system about the person running it.

/// The effective user ID: whose files rolecall may trust.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The account name in the user database (not `$USER`, which shells disagree about).
pub fn account_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; it is read at once, on
    // the only thread that calls it.
    unsafe {
        let entry = libc::getpwuid(effective_uid());
        if entry.is_null() || (*entry).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*entry).pw_name)
            .to_str()
            .ok()
            .map(String::from)
    }
}

/// `bytes` random bytes from the operating system, as URL-safe base64 (secrets: tokens,
/// states, verifiers).
pub fn random_text(bytes: usize) -> crate::error::Result<String> {
    use base64::Engine;
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).map_err(|e| {
        crate::error::Failure::local(format!("the operating system gave no random bytes: {e}"))
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}
