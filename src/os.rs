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

/// Kills `pid` and every process it started (found through /proc), children first, so none is
/// left running when the parent goes. Where there is no /proc, `pid` alone.
pub fn kill_tree(pid: i32) {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    if let Ok(listing) = std::fs::read_dir("/proc") {
        for entry in listing.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            // The parent is the second field after the command name, which is in parentheses
            // and may hold anything.
            let parent = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                });
            if let Some(parent) = parent {
                parents.push((child, parent));
            }
        }
    }
    let mut doomed = vec![pid];
    let mut index = 0;
    while index < doomed.len() {
        let parent = doomed[index];
        doomed.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        index += 1;
    }
    for victim in doomed.iter().rev() {
        // SAFETY: kill sends a signal; it touches no memory of this process.
        unsafe {
            libc::kill(*victim, libc::SIGKILL);
        }
    }
}

/// For tests of races, in debug builds only: when ROLECALL_TEST_PAUSE_BEFORE_RENAME names a
/// file, rolecall creates it right before it renames a file into place and waits (up to 30 s)
/// until the test has removed it, so the test can change things at that very moment.
#[cfg(debug_assertions)]
pub fn test_pause_before_rename() {
    let Some(marker) = std::env::var_os("ROLECALL_TEST_PAUSE_BEFORE_RENAME") else {
        return;
    };
    let marker = std::path::PathBuf::from(marker);
    if std::fs::write(&marker, b"paused").is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(not(debug_assertions))]
pub fn test_pause_before_rename() {}
