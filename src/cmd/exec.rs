//! `rolecall exec`: one command with the credentials in its environment; the shell is untouched.

use crate::cli::ExecArgs;
use crate::error::{printable, Failure, Kind, Result};
use crate::session::variables_to_unset;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn run(args: ExecArgs) -> Result<()> {
    let env = crate::env::Env::Process;
    let margin = if args.server {
        Some(crate::server::margin()?)
    } else {
        None
    };
    let request = super::request(&args.target, &args.flags, &env)?;
    let session = crate::engine::obtain(&request)?;
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("name a command to run after --"))?;
    let mut command = Command::new(program);
    command.args(rest);
    for name in variables_to_unset(&env) {
        command.env_remove(name);
    }
    let Some(margin) = margin else {
        command.envs(session.variables(None));
        return exec(command, program);
    };
    // The command gets the endpoint, the region and rolecall's own variables; no keys, and no
    // profile or file that an SDK would take keys from before it asks the endpoint.
    let variables: Vec<(&str, String)> = session
        .variables(None)
        .into_iter()
        .filter(|(name, _)| {
            !matches!(
                *name,
                "AWS_ACCESS_KEY_ID"
                    | "AWS_SECRET_ACCESS_KEY"
                    | "AWS_SESSION_TOKEN"
                    | "AWS_CREDENTIAL_EXPIRATION"
            )
        })
        .collect();
    let endpoint = crate::server::start(session, crate::server::renewal(&request), margin)?;
    command
        .envs(variables)
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &endpoint.url)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &endpoint.token)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE");
    run_beside(command, program)
}

/// Runs `command` as a child while this process serves its endpoint: its exit status becomes
/// rolecall's; SIGINT, SIGTERM and SIGHUP sent to rolecall reach it; and it gets SIGTERM if
/// rolecall dies, rather than going on with an endpoint that is gone.
fn run_beside(mut command: Command, program: &std::ffi::OsStr) -> Result<()> {
    core_limit_for(&mut command);
    let rolecall = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe and touch only the child; the error is
    // made without allocating.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            // Had rolecall died before the line above, no signal would come: the child would
            // already belong to another parent.
            if libc::getppid() != rolecall {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    // Caught from before the command starts, so a signal in between is passed on, not lost.
    catch_signals();
    let mut child = command
        .spawn()
        .map_err(|error| cannot_run(program, &error))?;
    CHILD.store(child.id() as i32, std::sync::atomic::Ordering::SeqCst);
    let pending = PENDING.swap(0, std::sync::atomic::Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: kill sends a signal to the child this process just started.
        unsafe { libc::kill(child.id() as i32, pending) };
    }
    let status = child
        .wait()
        .map_err(|e| Failure::local(format!("lost track of the command: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1);
    std::process::exit(code);
}

/// The child to signal, for the handlers (0: none yet).
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
/// A signal that came before the child existed, to pass on once it does.
static PENDING: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let child = CHILD.load(std::sync::atomic::Ordering::SeqCst);
    // SAFETY: `info` is the kernel's for this delivery; kill is async-signal-safe.
    unsafe {
        // Ctrl-C at the terminal reaches the child already (same process group); only a
        // signal sent to rolecall itself (kill, a supervisor) is passed on, so none arrives twice.
        let from_terminal = !info.is_null() && (*info).si_code == libc::SI_KERNEL;
        if !from_terminal {
            if child > 0 {
                libc::kill(child, signal);
            } else {
                PENDING.store(signal, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
}

fn catch_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: sigaction is plain data; the handler makes only async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                forward;
            action.sa_sigaction = handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

fn exec(mut command: Command, program: &std::ffi::OsStr) -> Result<()> {
    core_limit_for(&mut command);
    // exec replaces this process, so the command's exit status is rolecall's.
    let error = command.exec();
    Err(cannot_run(program, &error))
}

fn cannot_run(program: &std::ffi::OsStr, error: &std::io::Error) -> Failure {
    let status = if error.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    Failure {
        kind: Kind::CannotRun(status),
        message: format!(
            "cannot run {}: {error}",
            printable(&program.to_string_lossy())
        ),
        code: None,
    }
}

/// The command may dump core as it could before rolecall lowered the limit.
fn core_limit_for(command: &mut Command) {
    let core_limit = crate::CORE_LIMIT_AT_START.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: getrlimit and setrlimit are async-signal-safe and touch only the child.
    unsafe {
        command.pre_exec(move || {
            let mut limit: libc::rlimit = std::mem::zeroed();
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                limit.rlim_cur = core_limit.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
            Ok(())
        });
    }
}
