//! The type-to-filter profile picker for `assume` with no target. It draws on the terminal
//! itself (/dev/tty), never on stdout, which the shell function captures.

use crate::error::{printable, Failure, Result};
use std::cell::UnsafeCell;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// How many matches are shown at once.
const VISIBLE: usize = 10;

pub struct Choice {
    pub name: String,
    pub detail: String,
}

/// The terminal in raw mode; the original mode comes back when this is dropped, and also when
/// a signal (SIGTERM, SIGHUP, SIGQUIT, SIGINT from `kill`) ends the process meanwhile.
struct RawTerminal {
    tty: File,
    original: libc::termios,
    previous_handlers: Vec<(libc::c_int, libc::sigaction)>,
}

/// What a signal handler needs to give the terminal back: its descriptor (-1 while no picker is
/// open) and the mode to restore, written before the descriptor is published.
static RESTORE_FD: AtomicI32 = AtomicI32::new(-1);
static RESTORE_MODE: SavedMode = SavedMode(UnsafeCell::new(MaybeUninit::uninit()));

struct SavedMode(UnsafeCell<MaybeUninit<libc::termios>>);
// SAFETY: written only while RESTORE_FD is -1 (no handler reads it then), read only by handlers
// after RESTORE_FD is set.
unsafe impl Sync for SavedMode {}

/// The signals that end a process whose terminal the picker holds.
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

/// Clears what the picker drew and shows the cursor again.
const CLEAR_AND_SHOW_CURSOR: &[u8] = b"\r\x1b[J\x1b[?25h";

impl RawTerminal {
    fn open() -> Option<RawTerminal> {
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

    fn read_byte(&mut self) -> Option<u8> {
        let mut byte = [0u8; 1];
        match self.tty.read(&mut byte) {
            Ok(1) => Some(byte[0]),
            _ => None,
        }
    }

    /// The next byte if one arrives within 50 ms: tells a lone Esc from an arrow key.
    fn read_byte_soon(&mut self) -> Option<u8> {
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

/// Whether a picker can be shown: stdin is a terminal and /dev/tty opens.
pub fn available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && OpenOptions::new().read(true).open("/dev/tty").is_ok()
}

fn matches(choice: &Choice, query: &str) -> bool {
    let name = choice.name.to_lowercase();
    let mut rest = name.chars();
    let in_name = query.chars().all(|q| rest.any(|c| c == q));
    in_name || choice.detail.to_lowercase().contains(query)
}

/// Lets the person pick one of `choices`; `Failure::interrupted` when they cancel.
pub fn pick(choices: &[Choice]) -> Result<String> {
    let mut terminal = RawTerminal::open()
        .ok_or_else(|| Failure::usage("cannot open the terminal for the profile picker"))?;
    let mut query = String::new();
    let mut selected = 0usize;
    loop {
        let lowered = query.to_lowercase();
        let shown: Vec<&Choice> = choices.iter().filter(|c| matches(c, &lowered)).collect();
        selected = selected.min(shown.len().saturating_sub(1));
        draw(&mut terminal.tty, &query, &shown, selected, choices.len());
        let Some(byte) = terminal.read_byte() else {
            return Err(Failure::interrupted());
        };
        match byte {
            b'\r' | b'\n' => {
                if let Some(choice) = shown.get(selected) {
                    return Ok(choice.name.clone());
                }
            }
            3 | 4 => return Err(Failure::interrupted()),
            0x1b => match terminal.read_byte_soon() {
                Some(b'[') | Some(b'O') => match terminal.read_byte_soon() {
                    Some(b'A') => selected = selected.saturating_sub(1),
                    Some(b'B') => selected += 1,
                    _ => {}
                },
                _ => return Err(Failure::interrupted()),
            },
            16 => selected = selected.saturating_sub(1),
            14 => selected += 1,
            0x7f | 8 => {
                query.pop();
                selected = 0;
            }
            21 => {
                query.clear();
                selected = 0;
            }
            byte if byte >= 0x20 => {
                // Read the rest of a UTF-8 character before adding it to the query.
                let mut bytes = vec![byte];
                let extra = match byte {
                    0xc0..=0xdf => 1,
                    0xe0..=0xef => 2,
                    0xf0..=0xf7 => 3,
                    _ => 0,
                };
                for _ in 0..extra {
                    bytes.extend(terminal.read_byte());
                }
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    query.push_str(text);
                    selected = 0;
                }
            }
            _ => {}
        }
    }
}

/// The terminal's width in columns (80 when it cannot be asked).
fn terminal_width(tty: &File) -> usize {
    // SAFETY: winsize is plain data that TIOCGWINSZ fills for an open terminal.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above, on a descriptor `tty` keeps open.
    let asked = unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0;
    if asked && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// At most `room` characters of `text`, with an ellipsis when cut.
fn fit(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn draw(tty: &mut File, query: &str, shown: &[&Choice], selected: usize, total: usize) {
    // Every line must fit: one that wraps would break the redraw, which moves up a row per line.
    let width = terminal_width(tty).saturating_sub(1).max(20);
    let start = selected.saturating_sub(VISIBLE - 1);
    let query = fit(&printable(query), width / 2);
    let mut screen = format!(
        "\r\x1b[J\x1b[?25lprofile> {query}  ({} of {total})",
        shown.len()
    );
    let rows: Vec<&&Choice> = shown.iter().skip(start).take(VISIBLE).collect();
    for (offset, choice) in rows.iter().enumerate() {
        let marker = if start + offset == selected {
            "\x1b[7m>"
        } else {
            " "
        };
        let name = fit(&printable(&choice.name), width - 2);
        let room = width.saturating_sub(name.chars().count() + 4);
        let detail = match fit(&printable(&choice.detail), room) {
            d if d.is_empty() || room == 0 => String::new(),
            d => format!("  \x1b[2m{d}\x1b[22m"),
        };
        screen.push_str(&format!("\r\n{marker} {name}{detail}\x1b[0m"));
    }
    if shown.is_empty() {
        screen.push_str("\r\n  no profile matches");
    }
    let lines_below = rows.len().max(1);
    screen.push_str(&format!(
        "\x1b[{lines_below}A\r\x1b[{}C",
        9 + query.chars().count()
    ));
    let _ = tty.write_all(screen.as_bytes());
    let _ = tty.flush();
}
