//! A helper program run with a time limit (a `credential_process`, an `mfa_process`, a dialog):
//! its stdout read up to a bound, its stderr's tail kept for a message, and it, with everything it
//! started, ended when it is late or says too much.

use crate::error::printable;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

/// The limit on a helper that may wait on a person (a password manager, a hardware key); past
/// it the helper is stuck, and rolecall says so rather than hang, and ends it.
const TIMEOUT_SECONDS: u64 = 60;

/// The variable that changes that limit (seconds).
pub const TIMEOUT_VARIABLE: &str = "ROLECALL_PROCESS_TIMEOUT";

pub fn timeout() -> crate::error::Result<Duration> {
    match std::env::var(TIMEOUT_VARIABLE)
        .ok()
        .filter(|v| !v.is_empty())
    {
        None => Ok(Duration::from_secs(TIMEOUT_SECONDS)),
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(crate::error::Failure::usage(format!(
                "{TIMEOUT_VARIABLE} is `{}`; it must be a whole number of seconds, like 60",
                printable(&text)
            ))),
        },
    }
}

/// What a helper did by the time it exited.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    said: Vec<u8>,
}

impl Finished {
    /// Its last three lines on stderr, filtered and joined, as `: …` (empty when it said nothing).
    pub fn last_words(&self) -> String {
        let said = String::from_utf8_lossy(&self.said);
        let last: Vec<&str> = said.trim_end().lines().rev().take(3).collect();
        if last.is_empty() {
            return String::new();
        }
        let shown: Vec<&str> = last.iter().rev().copied().collect();
        format!(
            ": {}",
            printable(&shown.join(" / ").chars().take(400).collect::<String>())
        )
    }
}

/// Why a helper gave no finished run.
pub enum Unfinished {
    CannotStart(std::io::Error),
    Lost(std::io::Error),
    /// It printed more than the bound on stdout, and was ended.
    TooLong,
    /// It did not exit within the limit, and was ended.
    Late,
}

/// Runs `program` with `args`, stdin as given and stdout and stderr to rolecall (its words reach
/// the person only inside rolecall's messages, through the printable filter); `without_terminal`
/// starts it in a session of its own, so it cannot open the terminal either. The helper is
/// killed when this future is dropped, so one that outlives its limit does not go on after
/// rolecall has given up on it.
pub async fn run(
    program: &str,
    args: &[&str],
    stdin: Stdio,
    without_terminal: bool,
    limit: Duration,
    longest_answer: usize,
) -> Result<Finished, Unfinished> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if without_terminal {
        // SAFETY: setsid is async-signal-safe and touches no memory of this process.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    let mut child = command.spawn().map_err(Unfinished::CannotStart)?;
    let pid = child.id();
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let finished = tokio::time::timeout(limit, async {
        let (mut out, mut said) = (Vec::new(), Vec::new());
        // Both at once: a helper that fills one pipe while rolecall reads the other would wait.
        // Too long an answer ends the reading of both at once.
        let read = tokio::try_join!(
            async {
                match stdout.as_mut() {
                    Some(pipe) => read_answer(pipe, &mut out, longest_answer).await,
                    None => Ok(()),
                }
            },
            async {
                match stderr.as_mut() {
                    Some(pipe) => read_tail(pipe, &mut said, longest_answer)
                        .await
                        .map_err(Unfinished::Lost),
                    None => Ok(()),
                }
            }
        );
        read?;
        let status = child.wait().await.map_err(Unfinished::Lost)?;
        Ok::<_, Unfinished>(Finished {
            status,
            stdout: out,
            said,
        })
    })
    .await;
    // `sh -c` may have started the command as a child of its own: end them all while the shell
    // still stands, so they can be found as its descendants.
    let end_it = || {
        if let Some(pid) = pid {
            crate::os::kill_tree(pid as i32);
        }
    };
    match finished {
        Ok(Err(Unfinished::TooLong)) => {
            end_it();
            Err(Unfinished::TooLong)
        }
        Ok(done) => done,
        Err(_) => {
            end_it();
            Err(Unfinished::Late)
        }
    }
}

/// The answer on the helper's stdout, refused once longer than `longest`.
async fn read_answer(
    pipe: &mut tokio::process::ChildStdout,
    out: &mut Vec<u8>,
    longest: usize,
) -> Result<(), Unfinished> {
    use tokio::io::AsyncReadExt;
    pipe.take(longest as u64 + 1)
        .read_to_end(out)
        .await
        .map_err(Unfinished::Lost)?;
    if out.len() > longest {
        return Err(Unfinished::TooLong);
    }
    Ok(())
}

/// The helper's stderr read to its end, keeping no more than its last `longest` bytes or so:
/// only its last lines are shown.
async fn read_tail(
    pipe: &mut tokio::process::ChildStderr,
    said: &mut Vec<u8>,
    longest: usize,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 8192];
    loop {
        let read = pipe.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        said.extend_from_slice(&chunk[..read]);
        if said.len() > 2 * longest {
            said.drain(..said.len() - longest);
        }
    }
}
