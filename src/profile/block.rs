//! A marked block of generated profiles in the config file, one per sso-session: found by its
//! BEGIN and END lines, replaced as a whole, with every byte outside it kept. The file is
//! rewritten atomically and keeps its mode; the read, merge and write happen under a lock, so
//! two rolecalls writing blocks at once take turns instead of losing one's block.

use super::index::ProfileIndex;
use crate::error::{printable, Failure, Result};
use aws_runtime::env_config::file::EnvConfigFileKind;
use std::fs;
use std::io::Write;
use std::ops::Range;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub fn begin_line(session: &str) -> String {
    format!("# BEGIN rolecall sso populate [sso-session {session}]")
}

pub fn end_line(session: &str) -> String {
    format!("# END rolecall sso populate [sso-session {session}]")
}

const BEGIN_PREFIX: &str = "# BEGIN rolecall sso populate ";
const END_PREFIX: &str = "# END rolecall sso populate ";
const NOTE: &str =
    "# Generated from what IAM Identity Center grants; rolecall replaces everything up to END.";

/// This session's block in a config file's text: where it lies (its BEGIN line to its END line
/// and that line's newline), and the profile sections inside it, by name.
pub struct Block {
    pub range: Range<usize>,
    pub sections: Vec<(String, String)>,
}

/// Finds `session`'s block in `text`. `Err` for what rolecall will not guess about: a BEGIN
/// without its END, a block inside another, or the same session's block twice.
pub fn find(text: &str, session: &str) -> Result<Option<Block>, String> {
    let begin = begin_line(session);
    let end = end_line(session);
    let mut offset = 0;
    let mut found: Option<Range<usize>> = None;
    let mut open: Option<usize> = None;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        // Indented or not, CRLF or not: a marker line is the same line to a person.
        let line = raw.trim();
        if let Some(opened) = open {
            if line == end {
                found = Some(opened..offset);
                open = None;
            } else if line.starts_with(BEGIN_PREFIX) || line.starts_with(END_PREFIX) {
                return Err(format!(
                    "another block's marker is inside the block of sso-session {session} \
                     (`{}`); blocks cannot overlap: fix the BEGIN and END lines by hand",
                    printable(line)
                ));
            }
        } else if line == begin {
            if found.is_some() {
                return Err(format!(
                    "it has two blocks for sso-session {session}; remove one (from `{begin}` \
                     to `{end}`)"
                ));
            }
            open = Some(start);
        } else if line == end {
            return Err(format!(
                "`{end}` has no `{begin}` line before it; put it back where the generated \
                 profiles start, or remove the whole block"
            ));
        }
    }
    if open.is_some() {
        return Err(format!(
            "`{begin}` has no `{end}` line after it; put it back where the generated profiles \
             end, or remove the whole block"
        ));
    }
    let Some(range) = found else {
        return Ok(None);
    };
    let inside = ProfileIndex::build(vec![super::files::ConfigFile {
        kind: EnvConfigFileKind::Config,
        path: String::new(),
        contents: text[range.clone()].to_string(),
    }]);
    // Rewriting keeps the block's profiles only; anything else there would be lost unseen.
    if inside.confused || !inside.ignored.is_empty() || inside.sections().any(|s| !s.is_profile) {
        return Err(format!(
            "the block of sso-session {session} holds more than profiles (a section of another \
             kind, or one no AWS tool reads); rolecall would drop it when it rewrites the \
             block: move it out, above `{begin}`"
        ));
    }
    let sections = inside
        .sections()
        .map(|s| {
            // A block saved with CRLF line ends holds the same profiles.
            let body = inside.files[0].contents[s.lines.clone()]
                .trim_end()
                .replace("\r\n", "\n");
            (s.name.to_string(), format!("{body}\n"))
        })
        .collect();
    Ok(Some(Block { range, sections }))
}

/// The profile names defined outside `session`'s block: in the config file elsewhere (other
/// sessions' blocks included) and in the credentials file.
pub fn names_outside(index: &ProfileIndex, block: Option<&Range<usize>>) -> Vec<String> {
    index
        .sections()
        .filter(|s| s.is_profile)
        .filter(|s| {
            let in_block = index.files[s.file].is_config()
                && block.is_some_and(|b| b.contains(&s.lines.start));
            !in_block
        })
        .map(|s| s.name.to_string())
        .collect()
}

/// The block's text for `session` holding `sections` (each a section's text ending in `\n`).
pub fn render(session: &str, sections: &[&str]) -> String {
    let mut text = format!("{}\n{NOTE}\n\n", begin_line(session));
    for section in sections {
        text.push_str(section);
        text.push('\n');
    }
    text.push_str(&end_line(session));
    text.push('\n');
    text
}

/// `text` with the block at `range` replaced by `block`, or `block` added at the end after a
/// blank line. Nothing else of `text` changes.
pub fn splice(text: &str, range: Option<&Range<usize>>, block: &str) -> String {
    match range {
        Some(range) => format!("{}{block}{}", &text[..range.start], &text[range.end..]),
        None if text.is_empty() => block.to_string(),
        None => {
            let newline = if text.ends_with('\n') { "" } else { "\n" };
            format!("{text}{newline}\n{block}")
        }
    }
}

/// The config file being rewritten, held under a lock from reading to writing.
pub struct Rewrite {
    /// The file itself, a link at the named path followed.
    path: PathBuf,
    /// Its directory (`.` for a bare file name).
    dir: PathBuf,
    /// The lock: the directory of `path`, flock-ed.
    _lock: fs::File,
    /// What the file was when read (none: it did not exist), to see whether anything else
    /// changed it before it is replaced.
    seen: Option<Identity>,
    mode: u32,
}

/// How long a second writer waits for the first.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

impl Rewrite {
    /// Locks the config file at `named` (a link there followed to the file it names) for
    /// rewriting, once any other rolecall has finished with it. Refuses (exit 2) a file that is
    /// not a regular file of this user's, and one with more than one name: replacing it would
    /// leave the old text, secrets included, under the other name.
    pub fn begin(named: &Path) -> Result<Rewrite> {
        let shown = || printable(&named.to_string_lossy());
        let path = match fs::symlink_metadata(named) {
            Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(named)
                .map_err(|e| Failure::local(format!("cannot follow the link {}: {e}", shown())))?,
            _ => named.to_path_buf(),
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let shown_dir = || printable(&dir.to_string_lossy());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Failure::local(format!("cannot make {}: {e}", shown_dir())))?;
        let lock = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&dir)
            .map_err(|e| Failure::local(format!("cannot open {}: {e}", shown_dir())))?;
        wait_for_lock(&lock, &shown()).map_err(Failure::local)?;
        let (seen, mode) = match fs::symlink_metadata(&path) {
            Ok(meta) => {
                if !meta.is_file() || meta.uid() != crate::os::effective_uid() {
                    return Err(Failure::usage(format!(
                        "{} is not a regular file of yours; rolecall will not rewrite it",
                        shown()
                    )));
                }
                if meta.nlink() > 1 {
                    return Err(Failure::usage(format!(
                        "{} has {} names (hard links): rewriting it would leave the old text, \
                         secrets included, under the others; nothing was changed\n  make it a \
                         file of its own first (copy it, then move the copy over it)",
                        shown(),
                        meta.nlink()
                    )));
                }
                (Some(identity(&meta)), meta.mode() & 0o7777)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0o600),
            Err(e) => return Err(Failure::local(format!("cannot read {}: {e}", shown()))),
        };
        Ok(Rewrite {
            path,
            dir,
            _lock: lock,
            seen,
            mode,
        })
    }

    /// The new file is for its owner alone, whatever the old one's mode was.
    pub fn owner_only(mut self) -> Rewrite {
        self.mode = 0o600;
        self
    }

    /// Replaces the file with `text`: a temporary file beside it with the file's mode, synced,
    /// then swapped into place, so every reader sees the old file or the new one. Refused when
    /// the file changed since `begin` (an editor saved it meanwhile): what was swapped out is
    /// checked, and put back if it is not the file that was read, so nothing is lost.
    pub fn commit(self, text: &str) -> Result<(), String> {
        let shown = printable(&self.path.to_string_lossy());
        let changed =
            || format!("{shown} changed while rolecall was working on it; run the command again");
        // Checked first too, so a file changed long ago costs no write.
        if current_identity(&self.path) != self.seen {
            return Err(changed());
        }
        let cannot = |e: std::io::Error| format!("cannot write {shown}: {e}");
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(cannot)?;
        temp.write_all(text.as_bytes())
            .and_then(|_| {
                temp.as_file()
                    .set_permissions(fs::Permissions::from_mode(self.mode))
            })
            .and_then(|_| temp.as_file().sync_all())
            .map_err(cannot)?;
        crate::os::test_pause_before_rename();
        match swap_in(temp, &self.path, self.seen) {
            Swapped::Done => {}
            Swapped::Changed => return Err(changed()),
            Swapped::Failed(e) => return Err(cannot(e)),
            Swapped::Stranded(other) => {
                return Err(format!(
                    "{shown} changed while rolecall was replacing it, and the other version \
                     could not be put back: it is at {}",
                    printable(&other.to_string_lossy())
                ))
            }
        }
        // The rename itself reaches the disk only with the directory.
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(cannot)
    }
}

/// How replacing a file went.
enum Swapped {
    Done,
    /// The file at the path was not the one read; it is (still, or again) in place.
    Changed,
    Failed(std::io::Error),
    /// The file at the path was not the one read and could not be put back: it is here.
    Stranded(PathBuf),
}

/// Puts `temp` at `path` when what is there is still `seen` (none: nothing is there). Linux
/// swaps the two in one step and checks what it swapped out, so a save landing at any moment
/// before the swap is never overwritten; elsewhere, or on a file system that cannot swap, the
/// check runs right before the rename.
fn swap_in(temp: tempfile::NamedTempFile, path: &Path, seen: Option<Identity>) -> Swapped {
    let Some(seen) = seen else {
        // Nothing was there: a file that appeared meanwhile is not replaced.
        return match temp.persist_noclobber(path) {
            Ok(_) => Swapped::Done,
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Swapped::Changed,
            Err(e) => Swapped::Failed(e.error),
        };
    };
    #[cfg(target_os = "linux")]
    match exchange(temp.path(), path) {
        Ok(()) => {
            // `temp`'s name now holds what was at `path`.
            let swapped_out = fs::symlink_metadata(temp.path())
                .ok()
                .filter(|meta| meta.nlink() == 1)
                .map(|meta| identity(&meta));
            if swapped_out == Some(seen) {
                // Dropping `temp` removes the old file.
                return Swapped::Done;
            }
            return match exchange(temp.path(), path) {
                Ok(()) => Swapped::Changed,
                Err(_) => match temp.keep() {
                    Ok((_, other)) => Swapped::Stranded(other),
                    Err(e) => Swapped::Failed(e.error),
                },
            };
        }
        Err(e)
            if !matches!(
                e.raw_os_error(),
                Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
            ) =>
        {
            return Swapped::Failed(e)
        }
        // This file system cannot swap: check, then rename.
        Err(_) => {}
    }
    if current_identity(path) != Some(seen) {
        return Swapped::Changed;
    }
    match temp.persist(path) {
        Ok(_) => Swapped::Done,
        Err(e) => Swapped::Failed(e.error),
    }
}

/// Swaps the files at `a` and `b` in one step (renameat2 with RENAME_EXCHANGE).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: two NUL-terminated paths that live across the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The identity of the file at `path` now, when it is there with one name.
fn current_identity(path: &Path) -> Option<Identity> {
    fs::symlink_metadata(path)
        .ok()
        .filter(|meta| meta.nlink() == 1)
        .map(|meta| identity(&meta))
}

type Identity = (u64, u64, i64, i64, u64);

/// What tells one version of a file from the next: device, inode, size, modification time.
fn identity(meta: &fs::Metadata) -> Identity {
    (
        meta.dev(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.size(),
    )
}

fn wait_for_lock(lock: &fs::File, shown: &str) -> Result<(), String> {
    use std::io::IsTerminal;
    use std::os::fd::AsRawFd;
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        // SAFETY: flock on a descriptor `lock` keeps open; LOCK_NB never blocks.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        if started.elapsed() >= LOCK_PATIENCE {
            return Err(format!(
                "another rolecall has been writing {shown} for a minute; try again when it is done"
            ));
        }
        if !told && std::io::stderr().is_terminal() {
            eprintln!("rolecall: waiting for another rolecall that is writing {shown}");
            told = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHER: &str = "[default]\nregion = eu-west-1\n";

    #[test]
    fn a_block_is_added_at_the_end_and_replaced_in_place() {
        let block = render("corp", &["[profile a]\nx = 1\n"]);
        let first = splice("[default]\nregion = eu-west-1", None, &block);
        assert_eq!(first, format!("{}\n\n{block}", OTHER.trim_end()));
        let found = find(&first, "corp").unwrap().unwrap();
        assert_eq!(&first[found.range.clone()], block);
        assert_eq!(
            found.sections,
            [("a".to_string(), "[profile a]\nx = 1\n".to_string())]
        );
        let tail = "# mine\n[profile z]\n";
        let with_tail = format!("{first}{tail}");
        let found = find(&with_tail, "corp").unwrap().unwrap();
        let replaced = splice(&with_tail, Some(&found.range), &render("corp", &[]));
        assert!(replaced.starts_with("[default]\nregion = eu-west-1\n\n# BEGIN"));
        assert!(replaced.ends_with(&format!("{}\n{tail}", end_line("corp"))));
        assert_eq!(splice("", None, &block), block);
    }

    #[test]
    fn broken_blocks_are_refused_not_guessed_at() {
        let begin = begin_line("corp");
        let end = end_line("corp");
        for broken in [
            format!("{begin}\n[profile a]\n"),
            format!("{begin}\n{}\n{end}\n", begin_line("other")),
            format!("{begin}\n{end}\n{begin}\n{end}\n"),
            format!("[profile a]\n{end}\n"),
            format!("{begin}\n{}\n{end}\n", end_line("other")),
            format!("{begin}\n[sso-session x]\nsso_region = y\n{end}\n"),
            format!("{begin}\n[profile bad name]\nx = y\n{end}\n"),
        ] {
            assert!(find(&broken, "corp").is_err(), "{broken}");
        }
        let other_session = format!("{}\n{}\n", begin_line("other"), end_line("other"));
        assert!(find(&other_session, "corp").unwrap().is_none());
        let crlf = format!("  {begin}\r\n[profile a]\r\nx = 1\r\n{end}\r\n");
        let found = find(&crlf, "corp").unwrap().unwrap();
        assert_eq!(found.range, 0..crlf.len());
        assert_eq!(
            found.sections,
            [("a".to_string(), "[profile a]\nx = 1\n".to_string())]
        );
    }
}
