//! The MFA code: from `--mfa-token`, else asked for on the terminal itself (/dev/tty), never on
//! stdout, which the shell function captures.

use crate::error::{printable, Failure, Result};

pub fn code(serial: &str, given: Option<&str>, may_ask: bool) -> Result<String> {
    if let Some(code) = given {
        return check(code.trim());
    }
    if !may_ask {
        return Err(Failure::usage(format!(
            "{} needs an MFA code and --no-input forbids asking: pass --mfa-token CODE",
            printable(serial)
        )));
    }
    use crate::terminal::{ask_shown, Answer};
    match ask_shown(&format!("MFA code for {}: ", printable(serial))) {
        None => Err(Failure::usage(format!(
            "{} needs an MFA code and there is no terminal to ask on: pass --mfa-token CODE",
            printable(serial)
        ))),
        // Ctrl-C or Ctrl-D at the prompt: the person gave up.
        Some(Answer::GaveUp) => Err(Failure::interrupted()),
        Some(Answer::Given(code)) => check(code.trim()),
    }
}

fn check(code: &str) -> Result<String> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_string())
    } else {
        Err(Failure::usage(
            "an MFA code is the 6 digits your device shows now",
        ))
    }
}
