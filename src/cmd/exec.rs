//! `rolecall exec`: one command with the credentials in its environment; the shell is untouched.

use crate::cli::ExecArgs;
use crate::error::{printable, Failure, Kind, Result};
use crate::session::MANAGED_VARIABLES;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn run(args: ExecArgs) -> Result<()> {
    let session = crate::engine::obtain(&args.target, &args.flags)?;
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("name a command to run after --"))?;
    let mut command = Command::new(program);
    command.args(rest);
    for name in MANAGED_VARIABLES {
        command.env_remove(name);
    }
    command.envs(session.variables(None));
    // exec replaces this process, so the command's exit status is rolecall's.
    let error = command.exec();
    let status = if error.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    Err(Failure {
        kind: Kind::CannotRun(status),
        message: format!(
            "cannot run {}: {error}",
            printable(&program.to_string_lossy())
        ),
        code: None,
    })
}
