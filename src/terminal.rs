//! The terminal itself (/dev/tty) in raw mode, for what asks a person directly (the picker, a
//! hidden prompt) without going through stdout, which the shell function captures.

use std::cell::UnsafeCell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The terminal in raw mode; the original mode comes back when this is dropped, and also when
/// a signal (SIGTERM, SIGHUP, SIGQUIT, SIGINT from `kill`) ends the process meanwhile.
pub struct RawTerminal {
    pub tty: File,
    original: libc::termios,
    previous_handlers: Vec<(libc::c_int, libc::sigaction)>,
}

/// What a signal handler needs to give the terminal back: its descriptor (-1 while no
/// `RawTerminal` is open) and the mode to restore, written before the descriptor is published.
static RESTORE_FD: AtomicI32 = AtomicI32::new(-1);
static RESTORE_MODE: SavedMode = SavedMode(UnsafeCell::new(MaybeUninit::uninit()));

struct SavedMode(UnsafeCell<MaybeUninit<libc::termios>>);
// SAFETY: written only while RESTORE_FD is -1 (no handler reads it then), read only by handlers
// after RESTORE_FD is set.
unsafe impl Sync for SavedMode {}

/// The signals that end a process while it holds the terminal in raw mode.
const ENDING_SIGNALS: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT];

/// Restores the terminal, then lets the signal end the process as it would have.
extern "C" fn restore_terminal_and_die(signal: libc::c_int) {
    let fd = RESTORE_FD.load(Ordering::SeqCst);
    // SAFETY: only async-signal-safe calls (tcsetattr, write, signal, raise); RESTORE_MODE was
    // written before fd was published.
    unsafe {
        if fd >= 0 {
            libc::tcsetattr(fd, libc::TCSAFLUSH, (*RESTORE_MODE.0.get()).as_ptr());
            let reset = CLEAR_AND_SHOW_CURSOR;
            libc::write(fd, reset.as_ptr().cast(), reset.len());
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Clears what was drawn below the cursor's line (the picker's rows) and shows the cursor again.
const CLEAR_AND_SHOW_CURSOR: &[u8] = b"\r\x1b[J\x1b[?25h";

impl RawTerminal {
    pub fn open() -> Option<RawTerminal> {
        let tty = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data, filled by tcgetattr before use.
        let mut original: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is an open terminal for the lifetime of `tty`.
        if unsafe { libc::tcgetattr(fd, &mut original) } != 0 {
            return None;
        }
        let mut raw = original;
        // No line buffering, no echo, and Ctrl-C as a byte, so the terminal is always restored.
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_iflag &= !(libc::IXON | libc::ICRNL);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: no handler runs yet (RESTORE_FD is -1), so nothing reads RESTORE_MODE.
        unsafe { (*RESTORE_MODE.0.get()).write(original) };
        RESTORE_FD.store(fd, Ordering::SeqCst);
        let mut previous_handlers = Vec::new();
        for signal in ENDING_SIGNALS {
            // SAFETY: sigaction is plain data; the handler only makes async-signal-safe calls.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                let handler: extern "C" fn(libc::c_int) = restore_terminal_and_die;
                action.sa_sigaction = handler as *const () as usize;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut previous) == 0 {
                    previous_handlers.push((signal, previous));
                }
            }
        }
        let terminal = RawTerminal {
            tty,
            original,
            previous_handlers,
        };
        // SAFETY: as above; raw is a valid termios derived from the current one.
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &raw) } != 0 {
            return None;
        }
        Some(terminal)
    }

    pub fn read_byte(&mut self) -> Option<u8> {
        let mut byte = [0u8; 1];
        match self.tty.read(&mut byte) {
            Ok(1) => Some(byte[0]),
            _ => None,
        }
    }

    /// The next byte if one arrives within 50 ms: tells a lone Esc from an arrow key.
    pub fn read_byte_soon(&mut self) -> Option<u8> {
        let mut poll = libc::pollfd {
            fd: self.tty.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, 50) };
        if ready == 1 {
            self.read_byte()
        } else {
            None
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = self.tty.write_all(CLEAR_AND_SHOW_CURSOR);
        // SAFETY: restores the mode read in `open` on the same descriptor, then the handlers
        // that were there before.
        unsafe {
            libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSAFLUSH, &self.original);
            for (signal, previous) in &self.previous_handlers {
                libc::sigaction(*signal, previous, std::ptr::null_mut());
            }
        }
        RESTORE_FD.store(-1, Ordering::SeqCst);
    }
}

/// What a person typed at a prompt, or that they gave up (Ctrl-C, Ctrl-D).
pub enum Answer {
    Given(String),
    GaveUp,
}

/// Asks `question` on the terminal and reads one line without showing it: nothing is echoed,
/// Backspace and Ctrl-U edit, Enter ends. `None` when there is no terminal.
pub fn ask_hidden(question: &str) -> Option<Answer> {
    ask(question, false)
}

/// Asks `question` on the terminal and reads one line, showing what is typed. The terminal is
/// in raw mode meanwhile, so Ctrl-C is a key rolecall reads (and answers with exit 130) rather
/// than a signal that kills it: every shell, nushell included, then sees the same status.
pub fn ask_shown(question: &str) -> Option<Answer> {
    ask(question, true)
}

fn ask(question: &str, echo: bool) -> Option<Answer> {
    let mut terminal = RawTerminal::open()?;
    let _ = write!(terminal.tty, "{question}");
    let _ = terminal.tty.flush();
    let mut typed: Vec<u8> = Vec::new();
    let show = |terminal: &mut RawTerminal, bytes: &[u8]| {
        if echo {
            let _ = terminal.tty.write_all(bytes);
            let _ = terminal.tty.flush();
        }
    };
    let answer = loop {
        let Some(byte) = terminal.read_byte() else {
            break Answer::GaveUp;
        };
        match byte {
            b'\r' | b'\n' => break Answer::Given(String::from_utf8_lossy(&typed).into_owned()),
            0x03 => break Answer::GaveUp,
            0x04 if typed.is_empty() => break Answer::GaveUp,
            0x7f | 0x08 if typed.pop().is_some() => show(&mut terminal, b"\x08 \x08"),
            0x15 => {
                for _ in 0..typed.len() {
                    show(&mut terminal, b"\x08 \x08");
                }
                typed.clear();
            }
            // A terminal's escape sequence (bracketed paste's markers, an arrow key): skipped.
            0x1b => {
                if let Some(b'[') = terminal.read_byte_soon() {
                    while let Some(next) = terminal.read_byte_soon() {
                        if (0x40..=0x7e).contains(&next) {
                            break;
                        }
                    }
                }
            }
            // Printable ASCII only: what a key ID, a secret or an MFA code is made of.
            byte if (0x20..0x7f).contains(&byte) => {
                typed.push(byte);
                show(&mut terminal, &[byte]);
            }
            _ => {}
        }
    };
    let _ = write!(terminal.tty, "\r\n");
    Some(answer)
}
