//! One module per subcommand; each turns parsed arguments into output and a `Result`.

pub mod assume;
pub mod completions;
pub mod credential_process;
pub mod doctor;
pub mod exec;
pub mod init;
pub mod profiles;
pub mod prompt;
pub mod status;

use crate::error::{Failure, Result};
use std::io::Write;

/// Writes the whole output at once; a closed pipe ends the command quietly.
pub fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::aws(format!("cannot write the output: {e}"))),
    }
}
