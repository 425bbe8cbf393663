//! Opening a page in the person's browser: `$BROWSER`, else the platform's opener.

use crate::env::Env;
use std::time::{Duration, Instant};

/// `$BROWSER URL` when `$BROWSER` is set, else the platform's opener. Nothing the browser
/// prints reaches stdout, which the shell function captures. Only an http(s) page is opened: a
/// server could send anything, an option for the browser or a `file:` path among them.
///
/// A `$BROWSER` that fails within `patience` (a launcher that finds no browser exits at once)
/// is an error; one still running then is taken to have opened the page. A caller that must
/// get on with the login (`sso login` answers the browser's callback) gives no patience.
pub fn open(url: &str, env: &Env, patience: Duration) -> std::result::Result<(), String> {
    let web_page = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if !web_page {
        return Err("the page is not an http(s) URL".into());
    }
    let Some(browser) = env.get_os("BROWSER") else {
        // The opener's error quotes its whole command line, the URL with it: a sign-in URL
        // is a secret, so only the kind of failure is told.
        return open::that_detached(url).map_err(|_| {
            "no program could open it (xdg-open, gio, wslview, …); set $BROWSER".into()
        });
    };
    let mut child = std::process::Command::new(&browser)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        // A launcher that finds no browser says so quoting the URL, which may be a secret.
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("$BROWSER: {e}"))?;
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("$BROWSER ended with {status}")),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}
