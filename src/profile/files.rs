//! The two profile files (`$AWS_CONFIG_FILE` or ~/.aws/config, `$AWS_SHARED_CREDENTIALS_FILE`
//! or ~/.aws/credentials): found, read with bounds, and parsed by aws-config's own parser, with
//! a parse error attributed to the file and line at fault.

use crate::env::Env;
use crate::error::{describe_error, printable, Failure, Result};
use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// One of the two profile files, as read.
pub struct ConfigFile {
    pub kind: EnvConfigFileKind,
    pub path: String,
    pub contents: String,
}

impl ConfigFile {
    /// The config file, as opposed to the credentials file.
    pub fn is_config(&self) -> bool {
        matches!(self.kind, EnvConfigFileKind::Config)
    }
}

/// The config and credentials files that exist, read and checked.
pub fn config_files(env: &Env) -> Result<Vec<ConfigFile>> {
    let sources = [
        (EnvConfigFileKind::Config, CONFIG_VARIABLE, CONFIG_DEFAULT),
        (
            EnvConfigFileKind::Credentials,
            CREDENTIALS_VARIABLE,
            CREDENTIALS_DEFAULT,
        ),
    ];
    let mut files = Vec::new();
    for (kind, variable, default) in sources {
        if let Some((path, contents)) = read_config_file(env, variable, default)? {
            files.push(ConfigFile {
                kind,
                path,
                contents,
            });
        }
    }
    Ok(files)
}

/// aws-config's parse of `files`; the error as text when they do not parse.
pub fn parse(files: &[ConfigFile]) -> std::result::Result<ProfileSet, String> {
    let mut set = EnvConfigFiles::builder();
    for file in files {
        set = set.with_contents(file.kind, file.contents.clone());
    }
    if files.is_empty() {
        set = set.with_contents(EnvConfigFileKind::Config, "");
    }
    // The contents are given, so the loader reads no file; no variable may change its result.
    let loaded = run_ready(aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::from_slice(&[]),
        &set.build(),
        None,
    ))?;
    loaded.map_err(|e| describe_error(&e))
}

/// `files` parsed, or a usage failure that names the file and line at fault: parsed together
/// the files lose their names, so each is parsed alone to find the culprit.
pub fn parse_attributed(files: &[ConfigFile]) -> Result<ProfileSet> {
    parse(files).map_err(|whole| {
        let culprit = files
            .iter()
            .find_map(|file| {
                let text = parse(std::slice::from_ref(file)).err()?;
                let detail = text
                    .split_once(" on line ")
                    .map_or(text.as_str(), |(_, d)| d);
                Some(format!("{} line {detail}", file.path))
            })
            .unwrap_or(whole);
        Failure::usage(format!(
            "your AWS config does not parse: {}",
            printable(&culprit)
        ))
    })
}

/// aws-config's loader is `async` only for the future; it reads with std::fs and never waits,
/// so it is polled once here instead of starting a runtime on the fast (cached) path.
fn run_ready<F: Future>(future: F) -> std::result::Result<F::Output, String> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(
            "this aws-config version's profile loader waits; rolecall needs one that does not"
                .into(),
        ),
    }
}

/// Where the config file is (or would be): `$AWS_CONFIG_FILE`, else ~/.aws/config.
pub fn config_path(env: &Env) -> Option<std::path::PathBuf> {
    file_path(env, CONFIG_VARIABLE, CONFIG_DEFAULT)
}

/// Where the credentials file is (or would be): `$AWS_SHARED_CREDENTIALS_FILE`, else
/// ~/.aws/credentials.
pub fn credentials_path(env: &Env) -> Option<std::path::PathBuf> {
    file_path(env, CREDENTIALS_VARIABLE, CREDENTIALS_DEFAULT)
}

const CONFIG_VARIABLE: &str = "AWS_CONFIG_FILE";
const CONFIG_DEFAULT: &str = ".aws/config";
const CREDENTIALS_VARIABLE: &str = "AWS_SHARED_CREDENTIALS_FILE";
const CREDENTIALS_DEFAULT: &str = ".aws/credentials";

/// The file `variable` names, else `~/{default}`.
fn file_path(env: &Env, variable: &str, default: &str) -> Option<std::path::PathBuf> {
    match env.get_os(variable) {
        Some(path) => Some(std::path::PathBuf::from(path)),
        None => env.home().map(|home| home.join(default)),
    }
}

/// Reads one of the two files: the one `variable` names, else `~/{default}`. A file the person
/// named must exist; any file that exists must be a readable, UTF-8 text file. aws-config would
/// treat each of these problems as an empty file, which shows up as a baffling "no profile".
fn read_config_file(env: &Env, variable: &str, default: &str) -> Result<Option<(String, String)>> {
    let named = env.get_os(variable);
    let Some(path) = file_path(env, variable, default) else {
        return Ok(None);
    };
    let origin = if named.is_some() {
        format!(" (named by {variable})")
    } else {
        String::new()
    };
    let text = read_text(&path, &origin, named.is_some())?;
    Ok(text.map(|text| (path.to_string_lossy().into_owned(), text)))
}

/// One profile file's text, read as `read_bounded` reads it; `None` when it does not exist and
/// need not. `origin` follows the path in messages (` (named by AWS_CONFIG_FILE)`).
pub fn read_text(path: &std::path::Path, origin: &str, must_exist: bool) -> Result<Option<String>> {
    let shown = printable(&path.to_string_lossy());
    let bytes = match read_bounded(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::usage(format!("{shown}{origin} does not exist")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {
            return Err(Failure::usage(format!(
                "{shown}{origin} is a directory, not a file"
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(Failure::usage(format!("{shown}{origin} {e}")))
        }
        Err(e) => return Err(Failure::usage(format!("cannot read {shown}{origin}: {e}"))),
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::usage(format!(
            "{shown}{origin} is not UTF-8 text; save it as UTF-8"
        ))
    })?;
    Ok(Some(text))
}

/// Opens a file someone named for rolecall to read: a regular file, with its metadata, or `None`
/// for `/dev/null`. Anything else (a FIFO would block every assume and every Tab, `/dev/zero`
/// never ends) is refused with `InvalidInput` and a reason; the open does not block, so a FIFO
/// cannot hang it either.
pub fn open_regular(
    path: &std::path::Path,
) -> std::io::Result<Option<(std::fs::File, std::fs::Metadata)>> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    if meta.is_file() {
        return Ok(Some((file, meta)));
    }
    let is_dev_null = meta.file_type().is_char_device()
        && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev());
    if is_dev_null {
        Ok(None)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is not a regular file (a device, FIFO or socket); point it at a file",
        ))
    }
}

/// Far beyond any real config (a generated profile per account and role for thousands of
/// accounts stays under a few MiB), and small enough to read without trouble.
const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;

/// A config file's bytes, if it is a regular file of at most `MAX_CONFIG_BYTES` (or
/// `/dev/null`, read as empty: the usual way to say "no such file here"), opened as
/// `open_regular` opens it.
fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refused = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let Some((file, meta)) = open_regular(path)? else {
        return Ok(Vec::new());
    };
    let too_big = || refused("is larger than 64 MiB, too large for an AWS config file");
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}
