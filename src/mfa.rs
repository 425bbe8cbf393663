//! The MFA code: from `--mfa-token`, else asked for on the terminal itself (/dev/tty), never on
//! stdout, which the shell function captures.

use crate::error::{printable, Failure, Result};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};

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
    let tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            Failure::usage(format!(
                "{} needs an MFA code and there is no terminal to ask on: pass --mfa-token CODE",
                printable(serial)
            ))
        })?;
    let mut writer = &tty;
    write!(writer, "MFA code for {}: ", printable(serial))
        .and_then(|_| writer.flush())
        .map_err(|e| Failure::usage(format!("cannot ask for the MFA code: {e}")))?;
    let mut line = String::new();
    let read = BufReader::new(&tty)
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read the MFA code: {e}")))?;
    if read == 0 {
        // End of input at the prompt (Ctrl-D): the person gave up.
        let _ = writeln!(writer);
        return Err(Failure::interrupted());
    }
    check(line.trim())
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
