//! `rolecall exec`: one command with the credentials in its environment; the shell is untouched.

use crate::cli::ExecArgs;
use crate::error::{printable, Failure, Kind, Result};
use crate::session::MANAGED_VARIABLES;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn run(args: ExecArgs) -> Result<()> {
    let env = crate::env::Env::Process;
    let session = crate::engine::obtain(&super::request(&args.target, &args.flags, &env)?)?;
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
    let core_limit = crate::CORE_LIMIT_AT_START.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: getrlimit and setrlimit are async-signal-safe and touch only the child.
    unsafe {
        command.pre_exec(move || {
            // The command may dump core as it could before rolecall lowered the limit.
            let mut limit: libc::rlimit = std::mem::zeroed();
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                limit.rlim_cur = core_limit.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
            Ok(())
        });
    }
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
