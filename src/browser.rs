//! Opening a page in the person's browser: `$BROWSER`, else the platform's opener. Any local
//! user can read a command line (`/proc/PID/cmdline`), and the pages rolecall opens carry secrets
//! (a console sign-in, an authorize URL with its state), so the browser is never given the URL:
//! it gets a private page of ours, a file only this user can read, that sends it on at once.

use crate::env::Env;
use std::ffi::{CString, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Opens `url` through a private page: `$BROWSER file:///…/open.html` when `$BROWSER` is set,
/// else the platform's opener. Nothing the browser prints reaches stdout, which the shell
/// function captures. Only an http(s) URL is sent on: a server could send anything, an option
/// for the browser or a `file:` path among them.
///
/// A `$BROWSER` that fails within `patience` (a launcher that finds no browser exits at once)
/// is an error; one still running then is taken to have opened the page. A caller that must
/// get on with the login (`sso login` answers the browser's callback) gives no patience. The
/// page lives as long as the returned `Page` (and never longer than rolecall).
pub fn open(url: &str, env: &Env, patience: Duration) -> std::result::Result<Page, String> {
    let web_page = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if !web_page {
        return Err("the page is not an http(s) URL".into());
    }
    let page = Page::write(url, env)?;
    let page_url = url::Url::from_file_path(&page.file)
        .map_err(|_| "the private page has no file URL".to_string())?;
    let Some(browser) = env.get_os("BROWSER") else {
        return open::that_detached(page_url.as_str())
            .map(|_| page)
            .map_err(|_| {
                "no program could open it (xdg-open, gio, wslview, …); set $BROWSER".into()
            });
    };
    let mut child = std::process::Command::new(&browser)
        .arg(page_url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        // What a launcher says is no business of the terminal's.
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("$BROWSER: {e}"))?;
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(page),
            Ok(Some(status)) => return Err(format!("$BROWSER ended with {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return Ok(page),
        }
    }
    Ok(page)
}

/// After the page was last read, how long no one opening it again means the browser has it.
/// (A launcher such as xdg-open reads the file first to learn its type, then starts the browser.)
const QUIET_AFTER_READ: Duration = Duration::from_secs(2);

/// The private page: `open.html`, mode 0600, alone in a fresh 0700 directory of this user's
/// runtime directory (`$XDG_RUNTIME_DIR`), else of the cache directory. Dropping it removes
/// both; a signal that ends rolecall while it exists removes them too.
pub struct Page {
    directory: PathBuf,
    file: PathBuf,
    /// Watches the file being read, from before the browser started (Linux).
    #[cfg(target_os = "linux")]
    watch: Option<std::os::fd::OwnedFd>,
    _cleanup: signal_cleanup::Armed,
}

impl Page {
    fn write(url: &str, env: &Env) -> std::result::Result<Page, String> {
        let cannot = |e: std::io::Error| format!("cannot write the private page: {e}");
        let base = private_base(env).ok_or(
            "no directory of yours that only you can write to holds the private page \
             ($XDG_RUNTIME_DIR, the cache directory)",
        )?;
        // mkdir of a fresh random name: it never follows a link, and fails on anything planted.
        let directory = tempfile::Builder::new()
            .prefix("rolecall-page-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(cannot)?
            .keep();
        let file = directory.join("open.html");
        let mut page = Page {
            _cleanup: signal_cleanup::arm(&directory, &file),
            #[cfg(target_os = "linux")]
            watch: None,
            directory,
            file,
        };
        let mut handle = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&page.file)
            .map_err(cannot)?;
        handle
            .write_all(redirecting_html(url).as_bytes())
            .map_err(cannot)?;
        drop(handle);
        #[cfg(target_os = "linux")]
        {
            page.watch = read_watch(&page.file);
        }
        Ok(page)
    }

    /// Keeps the page until the browser has read it (it was read, and then no one opened it for
    /// a moment), at most `limit`, then removes it. Whether it was read at all.
    pub fn remove_once_read(self, limit: Duration) -> bool {
        #[cfg(target_os = "linux")]
        if let Some(watch) = &self.watch {
            return wait_for_reads(watch, limit);
        }
        // No way to see the read here: a browser gets the quiet time in any case.
        std::thread::sleep(QUIET_AFTER_READ.min(limit));
        true
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
        let _ = fs::remove_dir(&self.directory);
    }
}

/// `$XDG_RUNTIME_DIR`, else the cache directory (made, 0700, when missing), when it is a
/// directory of this user's that no one else can write to (so no one can swap what rolecall
/// creates in it), as its real path.
fn private_base(env: &Env) -> Option<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let private = |dir: PathBuf| {
        let dir = fs::canonicalize(dir).ok()?;
        let meta = fs::metadata(&dir).ok()?;
        let mine =
            meta.is_dir() && meta.uid() == crate::os::effective_uid() && meta.mode() & 0o022 == 0;
        mine.then_some(dir)
    };
    let runtime = env.get_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    if let Some(dir) = runtime.filter(|d| d.is_absolute()).and_then(private) {
        return Some(dir);
    }
    let cache = dirs::cache_dir()?;
    let _ = fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&cache);
    private(cache)
}

/// A page that sends the browser to `url` at once: a meta refresh, and a script for browsers
/// that hold refreshes back. It sends no referrer, so the URL reaches no page beyond it.
fn redirecting_html(url: &str) -> String {
    let attribute = html_escape(url);
    // A JSON string is a JavaScript string; `<` escaped too, so nothing can close the script.
    let script = serde_json::to_string(url)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={attribute}\">\n<title>rolecall</title>\n\
         <script>location.replace({script});</script>\n\
         <p><a href=\"{attribute}\" rel=\"noreferrer\">Continue</a></p>\n"
    )
}

fn html_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            other => other.to_string(),
        })
        .collect()
}

/// An inotify descriptor watching `file` being opened and closed, or none where the kernel
/// gives none (the page is then kept for the quiet time).
#[cfg(target_os = "linux")]
fn read_watch(file: &Path) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let path = CString::new(file.as_os_str().as_bytes()).ok()?;
    // SAFETY: inotify_init1 takes flags only; the descriptor it returns is owned from here on.
    let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a descriptor this process just opened and nothing else owns.
    let watch = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
    use std::os::fd::AsRawFd;
    // SAFETY: a valid descriptor and a NUL-terminated path that outlives the call.
    let added = unsafe {
        libc::inotify_add_watch(
            watch.as_raw_fd(),
            path.as_ptr(),
            libc::IN_OPEN | libc::IN_CLOSE_NOWRITE | libc::IN_CLOSE_WRITE,
        )
    };
    (added >= 0).then_some(watch)
}

/// Waits until the watched file was read and then left unopened for `QUIET_AFTER_READ`, or
/// until `limit`. Whether it was read.
#[cfg(target_os = "linux")]
fn wait_for_reads(watch: &std::os::fd::OwnedFd, limit: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let give_up = Instant::now() + limit;
    let (mut open, mut reads) = (0u32, 0u32);
    let mut last_event = Instant::now();
    loop {
        let now = Instant::now();
        let quiet_until = last_event + QUIET_AFTER_READ;
        if reads > 0 && open == 0 && now >= quiet_until {
            return true;
        }
        if now >= give_up {
            return reads > 0;
        }
        let until = if reads > 0 && open == 0 {
            quiet_until.min(give_up)
        } else {
            give_up
        };
        let wait = until.saturating_duration_since(now).as_millis().min(1000) as i32;
        let mut ready = libc::pollfd {
            fd: watch.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd that lives across the call.
        if unsafe { libc::poll(&mut ready, 1, wait.max(1)) } <= 0 {
            continue;
        }
        let mut buffer = [0u8; 4096];
        // SAFETY: reads at most the buffer's length into the buffer.
        let got =
            unsafe { libc::read(watch.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        let Ok(got) = usize::try_from(got) else {
            continue;
        };
        let header = std::mem::size_of::<libc::inotify_event>();
        let mut at = 0;
        while at + header <= got {
            // SAFETY: the kernel wrote a whole event header at `at`; read unaligned.
            let event: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(buffer.as_ptr().add(at).cast()) };
            if event.mask & libc::IN_OPEN != 0 {
                open += 1;
            }
            if event.mask & (libc::IN_CLOSE_NOWRITE | libc::IN_CLOSE_WRITE) != 0 {
                open = open.saturating_sub(1);
                reads += 1;
            }
            at += header + event.len as usize;
        }
        last_event = Instant::now();
    }
}

/// Removing the page when SIGINT, SIGTERM or SIGHUP ends rolecall while it exists: the handler
/// unlinks the file and its directory (both async-signal-safe), then dies of the same signal.
mod signal_cleanup {
    use super::*;
    use std::sync::atomic::{AtomicPtr, Ordering};

    static FILE: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
    static DIRECTORY: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// While alive, the handlers are in place; dropped, the previous actions are back.
    pub struct Armed {
        previous: Vec<(libc::c_int, libc::sigaction)>,
    }

    extern "C" fn remove_and_die(signal: libc::c_int) {
        // SAFETY: unlink, rmdir, signal and raise are async-signal-safe; the paths are leaked
        // C strings that are never freed.
        unsafe {
            let file = FILE.load(Ordering::SeqCst);
            if !file.is_null() {
                libc::unlink(file);
            }
            let directory = DIRECTORY.load(Ordering::SeqCst);
            if !directory.is_null() {
                libc::rmdir(directory);
            }
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    fn leaked(path: &Path) -> *mut libc::c_char {
        let text: OsString = path.as_os_str().to_owned();
        CString::new(text.as_bytes())
            .map(|c| Box::leak(c.into_boxed_c_str()).as_ptr().cast_mut())
            .unwrap_or(std::ptr::null_mut())
    }

    pub fn arm(directory: &Path, file: &Path) -> Armed {
        // A few bytes per page, and rolecall opens one page a run: leaked, so a handler running
        // on another thread never reads freed memory.
        DIRECTORY.store(leaked(directory), Ordering::SeqCst);
        FILE.store(leaked(file), Ordering::SeqCst);
        let mut previous = Vec::new();
        for signal in SIGNALS {
            // SAFETY: sigaction is plain data; the handler makes only async-signal-safe calls.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction == libc::SIG_IGN
                {
                    // A signal the caller ignores (a background job's SIGINT) stays ignored.
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = remove_and_die as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        Armed { previous }
    }

    impl Drop for Armed {
        fn drop(&mut self) {
            for (signal, old) in &self.previous {
                // SAFETY: puts back the action sigaction reported before.
                unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
            }
            FILE.store(std::ptr::null_mut(), Ordering::SeqCst);
            DIRECTORY.store(std::ptr::null_mut(), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_sends_the_browser_on_and_no_url_can_break_out_of_it() {
        let html = redirecting_html("https://x.test/a?b=1&c='\"</script><b>");
        assert!(html.contains(
            "content=\"0;url=https://x.test/a?b=1&amp;c=&#39;&quot;&lt;/script&gt;&lt;b&gt;\""
        ));
        assert!(html.contains(
            "location.replace(\"https://x.test/a?b=1&c='\\\"\\u003c/script>\\u003cb>\");"
        ));
        assert_eq!(html.matches("</script>").count(), 1);
    }

    #[test]
    fn the_page_is_private_in_a_fresh_directory_and_gone_once_dropped() {
        let runtime = tempfile::tempdir().unwrap();
        let env = Env::of(&[("XDG_RUNTIME_DIR", runtime.path().to_str().unwrap())]);
        let page = Page::write("https://x.test/?a=1", &env).unwrap();
        let mode = |path: &Path| fs::symlink_metadata(path).unwrap().mode() & 0o7777;
        assert_eq!((mode(&page.file), mode(&page.directory)), (0o600, 0o700));
        assert_eq!(
            page.directory.parent().unwrap(),
            fs::canonicalize(runtime.path()).unwrap()
        );
        assert!(fs::read_to_string(&page.file)
            .unwrap()
            .contains("url=https://x.test/?a=1\""));
        let directory = page.directory.clone();
        drop(page);
        assert!(!directory.exists());
    }
}
