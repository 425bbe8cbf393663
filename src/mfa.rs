//! The MFA code: from `--mfa-token`, else the profile's `mfa_process`, else asked wherever the
//! person is (the terminal itself, /dev/tty, a desktop dialog), never on stdout, which the shell
//! function captures. A code STS has taken is not offered again within its 30-second window.

use crate::error::{printable, Failure, Result};
use crate::profile::chain::MfaProcess;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// Everything that decides where one MFA code comes from.
pub struct Need<'a> {
    pub serial: &'a str,
    /// The profile the code is for, named in a dialog's text.
    pub profile: &'a str,
    pub given: Option<&'a str>,
    pub process: Option<&'a MfaProcess>,
    /// Whether a person may be asked (`--no-input` says no; `mfa_process` runs either way).
    pub may_ask: bool,
    /// Where the last code STS took is noted; none with `--no-cache`.
    pub notes: Option<&'a Path>,
}

/// Chooses the prompt, whatever the environment says.
pub const PROMPT_VARIABLE: &str = "ROLECALL_MFA_PROMPT";

/// A TOTP code's window: a device shows one code for this long.
const WINDOW_SECONDS: i64 = 30;

/// How many times a code equal to the one just taken is met with a wait for the next one.
const SAME_CODE_TRIES: u32 = 3;

/// How long a person has to answer a desktop dialog: as long as another rolecall waits for the
/// lock while someone types a code there.
const DIALOG_SECONDS: u64 = 120;

/// The most of an `mfa_process`'s or a dialog's output read: one code on one line needs 7 bytes.
const LONGEST_ANSWER_BYTES: usize = 4096;

/// Where a code that was not given comes from.
enum Source<'a> {
    Process(&'a MfaProcess),
    Person(Prompt),
}

/// Where a person is asked.
#[derive(Clone, Copy)]
enum Prompt {
    /// stdin is a terminal: ask there (through /dev/tty, never stdout).
    Terminal,
    /// The controlling terminal, whatever stdin is (the AWS CLI running a credential_process).
    Tty,
    Zenity,
    Kdialog,
}

pub async fn code(need: &Need<'_>) -> Result<String> {
    if let Some(given) = need.given {
        let code = check(given.trim())?;
        if let Some(seconds) = spent_recently(need, &code) {
            return Err(Failure::usage(format!(
                "the MFA code {code} of {} was used {seconds}s ago and STS takes each code once: \
                 pass the next one",
                printable(need.serial)
            )));
        }
        return Ok(code);
    }
    let source = match need.process {
        Some(process) => Source::Process(process),
        None if !need.may_ask => {
            return Err(Failure::usage(format!(
                "{} needs an MFA code and --no-input forbids asking: pass --mfa-token CODE, or \
                 set mfa_process in the profile",
                printable(need.serial)
            )))
        }
        None => Source::Person(prompt_here(need.serial)?),
    };
    wait_for_a_new_window(need);
    for _ in 0..SAME_CODE_TRIES {
        let code = match source {
            Source::Process(process) => from_process(need, process).await?,
            Source::Person(prompt) => asked(need, prompt).await?,
        };
        if spent_recently(need, &code).is_none() {
            return Ok(code);
        }
        wait_until_next_window(need, crate::time::now());
    }
    Err(Failure::usage(format!(
        "the MFA code for {} stayed the one STS took last; check the clock of the device",
        printable(need.serial)
    )))
}

/// Notes that STS took `code` for `serial`, so the next request does not offer it again.
pub fn spent(notes: Option<&Path>, serial: &str, code: &str) {
    let Some(dir) = notes else { return };
    let value = format!("{} {code}", crate::time::now());
    if let Err(e) = crate::cache::write_note(dir, &note_name(serial), serial, &value) {
        let why = printable(&e.to_string());
        eprintln!("rolecall: warning: could not note the MFA code as used: {why}");
    }
}

fn note_name(serial: &str) -> String {
    let device = serial.rsplit('/').next().unwrap_or(serial);
    crate::cache::entry_name("used-code", device, serial)
}

/// When and which code STS last took for this device.
fn last_spent(need: &Need) -> Option<(i64, String)> {
    let value = crate::cache::read_note(need.notes?, &note_name(need.serial), need.serial)?;
    let (at, code) = value.split_once(' ')?;
    Some((at.parse().ok()?, code.to_string()))
}

/// How many seconds ago `code` was taken, when that was recent enough for STS to refuse it
/// (it accepts a code for a window either side of its own).
fn spent_recently(need: &Need, code: &str) -> Option<i64> {
    let (at, spent) = last_spent(need)?;
    let ago = crate::time::now() - at;
    (spent == code && (0..3 * WINDOW_SECONDS).contains(&ago)).then_some(ago)
}

/// A code was taken in this very window: the device shows it still, so wait for its next one.
fn wait_for_a_new_window(need: &Need) {
    if let Some((at, _)) = last_spent(need) {
        if at / WINDOW_SECONDS == crate::time::now() / WINDOW_SECONDS {
            wait_until_next_window(need, at);
        }
    }
}

fn wait_until_next_window(need: &Need, after: i64) {
    let next = (after / WINDOW_SECONDS + 1) * WINDOW_SECONDS;
    let seconds = (next - crate::time::now()).max(0) + 1;
    eprintln!(
        "rolecall: the MFA code of {} was just used, and STS takes each code once; \
         waiting {seconds}s for the next code",
        printable(need.serial)
    );
    std::thread::sleep(Duration::from_secs(seconds as u64));
}

/// The prompt `ROLECALL_MFA_PROMPT` forces, else the first that reaches the person; refused at
/// once when there is none.
fn prompt_here(serial: &str) -> Result<Prompt> {
    let forced = std::env::var(PROMPT_VARIABLE)
        .ok()
        .filter(|v| !v.is_empty());
    if let Some(name) = forced {
        return match name.as_str() {
            "terminal" if !std::io::stdin().is_terminal() => Err(Failure::usage(format!(
                "{} needs an MFA code and {PROMPT_VARIABLE}=terminal, but stdin is no \
                 terminal: pass --mfa-token CODE",
                printable(serial)
            ))),
            "terminal" => Ok(Prompt::Terminal),
            "tty" => Ok(Prompt::Tty),
            "zenity" => Ok(Prompt::Zenity),
            "kdialog" => Ok(Prompt::Kdialog),
            "none" => Err(nobody_to_ask(serial)),
            _ => Err(Failure::usage(format!(
                "{PROMPT_VARIABLE} is `{}`; it must be terminal, tty, zenity, kdialog or none",
                printable(&name)
            ))),
        };
    }
    if std::io::stdin().is_terminal() {
        return Ok(Prompt::Terminal);
    }
    if tty_opens() {
        return Ok(Prompt::Tty);
    }
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    if desktop {
        if on_path("zenity") {
            return Ok(Prompt::Zenity);
        }
        if on_path("kdialog") {
            return Ok(Prompt::Kdialog);
        }
    }
    Err(nobody_to_ask(serial))
}

fn nobody_to_ask(serial: &str) -> Failure {
    Failure::usage(format!(
        "{} needs an MFA code and there is no terminal to ask on: pass --mfa-token CODE, or set \
         mfa_process in the profile",
        printable(serial)
    ))
}

fn tty_opens() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

async fn asked(need: &Need<'_>, prompt: Prompt) -> Result<String> {
    match prompt {
        Prompt::Terminal | Prompt::Tty => {
            use crate::terminal::{ask_shown, Answer};
            match ask_shown(&format!("MFA code for {}: ", printable(need.serial))) {
                None => Err(nobody_to_ask(need.serial)),
                // Ctrl-C or Ctrl-D at the prompt: the person gave up.
                Some(Answer::GaveUp) => Err(Failure::interrupted()),
                Some(Answer::Given(code)) => check(code.trim()),
            }
        }
        Prompt::Zenity | Prompt::Kdialog => dialog(need, prompt).await,
    }
}

/// An entry dialog on the desktop, naming the profile and the device.
async fn dialog(need: &Need<'_>, prompt: Prompt) -> Result<String> {
    use crate::process::Unfinished;
    let text = format!(
        "MFA code for profile {} (device {})",
        printable(need.profile),
        printable(need.serial)
    );
    // zenity reads its text as Pango markup; kdialog shows plain text unless it starts with a tag.
    let markup = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let (program, args): (&str, Vec<&str>) = match prompt {
        Prompt::Zenity => (
            "zenity",
            vec!["--entry", "--title=rolecall", "--text", &markup],
        ),
        _ => ("kdialog", vec!["--title", "rolecall", "--inputbox", &text]),
    };
    let failed = |why: String| {
        Failure::usage(format!(
            "{} needs an MFA code and the {program} dialog {why}: pass --mfa-token CODE",
            printable(need.serial)
        ))
    };
    let run = crate::process::run(
        program,
        &args,
        std::process::Stdio::null(),
        false,
        Duration::from_secs(DIALOG_SECONDS),
        LONGEST_ANSWER_BYTES,
    )
    .await;
    match run {
        Ok(done) if done.status.success() => check(first_line(&done.stdout).trim()),
        // Cancel, or the window closed: the person gave up.
        Ok(done) if done.status.code() == Some(1) => Err(Failure::interrupted()),
        Ok(done) => Err(failed(format!(
            "exited with {}{}",
            done.status,
            done.last_words()
        ))),
        Err(Unfinished::CannotStart(e)) => Err(failed(format!("could not start: {e}"))),
        Err(Unfinished::Lost(e)) => Err(failed(format!("was lost track of: {e}"))),
        Err(Unfinished::TooLong) => Err(failed("printed far more than a code".into())),
        Err(Unfinished::Late) => Err(failed(format!(
            "had no answer within {DIALOG_SECONDS}s, and was closed"
        ))),
    }
}

/// The code the profile's `mfa_process` prints first, run with no terminal and a time limit.
async fn from_process(need: &Need<'_>, process: &MfaProcess) -> Result<String> {
    use crate::process::Unfinished;
    let limit = crate::process::timeout()?;
    let named = format!(
        "the mfa_process of profile `{}`",
        printable(&process.profile)
    );
    eprintln!(
        "rolecall: asking {named} for the MFA code of {}",
        printable(need.serial)
    );
    let run = crate::process::run(
        "sh",
        &["-c", &process.command],
        std::process::Stdio::null(),
        true,
        limit,
        LONGEST_ANSWER_BYTES,
    )
    .await;
    let refused = |why: String| {
        Failure::aws(format!(
            "{named} {why}; it must print the 6-digit code of {} on its first line",
            printable(need.serial)
        ))
    };
    let done = match run {
        Ok(done) => done,
        Err(Unfinished::CannotStart(e)) => return Err(refused(format!("could not start: {e}"))),
        Err(Unfinished::Lost(e)) => return Err(refused(format!("was lost track of: {e}"))),
        Err(Unfinished::TooLong) => {
            return Err(refused(format!(
                "printed more than {LONGEST_ANSWER_BYTES} bytes, and was ended"
            )))
        }
        Err(Unfinished::Late) => {
            return Err(refused(format!(
                "did not answer within {}s, and was ended ({} changes the limit)",
                limit.as_secs(),
                crate::process::TIMEOUT_VARIABLE
            )))
        }
    };
    if !done.status.success() {
        return Err(refused(format!(
            "exited with {}{}",
            done.status,
            done.last_words()
        )));
    }
    // What it printed is not shown: a line that is no code may be anything, a secret included.
    let line = first_line(&done.stdout);
    if !is_code(line.trim()) {
        return Err(Failure::usage(format!(
            "{named} printed no MFA code: its first line is not 6 digits; it must print the \
             code of {} on its first line",
            printable(need.serial)
        )));
    }
    Ok(line.trim().to_string())
}

fn first_line(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    text.lines().next().unwrap_or("").to_string()
}

fn is_code(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

fn check(code: &str) -> Result<String> {
    if is_code(code) {
        Ok(code.to_string())
    } else {
        Err(Failure::usage(
            "an MFA code is the 6 digits your device shows now",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_digits_and_nothing_else() {
        for good in ["123456", "000000"] {
            assert!(is_code(good), "{good}");
        }
        for bad in ["12345", "1234567", "12345a", " 12345", "١٢٣٤٥٦", ""] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
