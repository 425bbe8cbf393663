//! Profiles: the AWS config and credentials files as aws-config parses them, and the walk from a
//! target down its `source_profile` chain to the credentials everything starts from.

use crate::cli::CredentialFlags;
use crate::error::{describe_error, printable, Failure, Result};
use crate::session::Credentials;
use aws_config::profile::{Profile, ProfileFileLoadError, ProfileSet};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The parsed config and credentials files (`$AWS_CONFIG_FILE`, `$AWS_SHARED_CREDENTIALS_FILE`
/// or their defaults), merged the way every AWS SDK merges them.
pub struct Config {
    profiles: ProfileSet,
}

/// aws-config's loader is `async` only for the future; it reads with std::fs and never waits,
/// so it is polled once here instead of starting a runtime on the fast (cached) path.
fn run_ready<F: Future>(future: F) -> Result<F::Output> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(Failure::usage(
            "this aws-config version's profile loader waits; rolecall needs one that does not",
        )),
    }
}

/// One of the two profile files, as read.
pub struct ConfigFile {
    pub kind: EnvConfigFileKind,
    pub path: String,
    pub contents: String,
}

/// The config and credentials files that exist, read and checked.
pub fn config_files() -> Result<Vec<ConfigFile>> {
    let sources = [
        (EnvConfigFileKind::Config, "AWS_CONFIG_FILE", ".aws/config"),
        (
            EnvConfigFileKind::Credentials,
            "AWS_SHARED_CREDENTIALS_FILE",
            ".aws/credentials",
        ),
    ];
    let mut files = Vec::new();
    for (kind, variable, default) in sources {
        if let Some((path, contents)) = read_config_file(variable, default)? {
            files.push(ConfigFile {
                kind,
                path,
                contents,
            });
        }
    }
    Ok(files)
}

fn parse(files: &[ConfigFile]) -> Result<std::result::Result<ProfileSet, ProfileFileLoadError>> {
    let mut set = EnvConfigFiles::builder();
    for file in files {
        set = set.with_contents(file.kind, file.contents.clone());
    }
    if files.is_empty() {
        set = set.with_contents(EnvConfigFileKind::Config, "");
    }
    run_ready(aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &set.build(),
        None,
    ))
}

impl Config {
    /// Every profile, parsed.
    pub fn load() -> Result<Config> {
        Self::from_files(&config_files()?)
    }

    /// Only what resolving `targets` can touch, when the index can tell (see `profile_index`);
    /// the flag says whether the result is such a part. A part answers every question about
    /// the targets' chains exactly as the whole would; for anything else, load the whole.
    pub fn load_for(targets: &[&str]) -> Result<(Config, bool)> {
        let index = crate::profile_index::ProfileIndex::build(config_files()?);
        match index.subset_for(targets) {
            Some(subset) => match parse(&subset)? {
                Ok(profiles) => Ok((Config { profiles }, true)),
                // Line numbers in a part are not the file's: let the whole explain.
                Err(_) => Ok((Self::from_files(&index.files)?, false)),
            },
            None => Ok((Self::from_files(&index.files)?, false)),
        }
    }

    fn from_files(files: &[ConfigFile]) -> Result<Config> {
        match parse(files)? {
            Ok(profiles) => Ok(Config { profiles }),
            Err(error) => {
                // Parsed together the files lose their names; find the one at fault.
                let culprit = files
                    .iter()
                    .find_map(|file| {
                        parse(std::slice::from_ref(file))
                            .ok()?
                            .err()
                            .map(|e| (file.path.clone(), e))
                    })
                    .map(|(path, e)| {
                        let text = describe_error(&e);
                        let detail = text
                            .split_once(" on line ")
                            .map_or(text.as_str(), |(_, d)| d);
                        format!("{path} line {detail}")
                    })
                    .unwrap_or_else(|| describe_error(&error));
                Err(Failure::usage(format!(
                    "your AWS config does not parse: {}",
                    printable(&culprit)
                )))
            }
        }
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get_profile(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.profiles()
    }

    /// A usage failure for a profile name that does not exist, naming the nearest ones.
    pub fn unknown_profile(&self, name: &str, referrer: Option<&str>) -> Failure {
        let mut near: Vec<(f64, &str)> = self
            .names()
            .map(|n| (strsim::jaro_winkler(name, n), n))
            .filter(|(score, _)| *score > 0.8)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let what = match referrer {
            Some(r) => format!(
                "profile `{}` names source_profile `{}`, which does not exist",
                printable(r),
                printable(name)
            ),
            None => format!("no profile named `{}`", printable(name)),
        };
        let hint = match near.as_slice() {
            [] => "; `rolecall profiles` lists them".to_string(),
            [(_, one)] => format!("; did you mean {}?", printable(one)),
            many => format!(
                "; did you mean one of: {}?",
                many.iter()
                    .take(3)
                    .map(|(_, n)| printable(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Failure::usage(what + &hint)
    }

    /// The region a profile names, else the nearest one down its source chain, else
    /// `[default]`'s.
    fn region_along(&self, chain: &[String]) -> Option<String> {
        chain
            .iter()
            .filter_map(|name| self.profile(name))
            .chain(self.profile("default"))
            .find_map(|p| non_empty(p.get("region")))
    }
}

/// Reads one of the two files: the one `variable` names, else `~/{default}`. A file the person
/// named must exist; any file that exists must be a readable, UTF-8 text file. aws-config would
/// treat each of these problems as an empty file, which shows up as a baffling "no profile".
pub fn read_config_file(variable: &str, default: &str) -> Result<Option<(String, String)>> {
    let named = std::env::var_os(variable).filter(|v| !v.is_empty());
    let path = match &named {
        Some(path) => std::path::PathBuf::from(path),
        None => match dirs::home_dir() {
            Some(home) => home.join(default),
            None => return Ok(None),
        },
    };
    let shown = printable(&path.to_string_lossy());
    let origin = if named.is_some() {
        format!(" (named by {variable})")
    } else {
        String::new()
    };
    let bytes = match read_bounded(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => return Ok(None),
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
    Ok(Some((path.to_string_lossy().into_owned(), text)))
}

/// Far beyond any real config (a generated profile per account and role for thousands of
/// accounts stays under a few MiB), and small enough to read without trouble.
const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;

/// A config file's bytes, if it is a regular file of at most `MAX_CONFIG_BYTES`. `/dev/null`
/// reads as empty, the usual way to say "no such file here". Anything else that is not a regular
/// file (a FIFO would block every assume and every Tab, `/dev/zero` never ends) is refused with
/// `InvalidInput` and a reason. The open does not block, so a FIFO cannot hang it either.
fn read_bounded(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
    let refused = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    if !meta.is_file() {
        let is_dev_null = meta.file_type().is_char_device()
            && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev());
        return if is_dev_null {
            Ok(Vec::new())
        } else {
            Err(refused(
                "is not a regular file (a device, FIFO or socket); point it at a file",
            ))
        };
    }
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

fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// The code of the failure for a `credential_source = Environment` profile in an environment
/// without keys: the config is fine, the shell is not ready.
pub const ENVIRONMENT_KEYS_MISSING: &str = "EnvironmentKeysMissing";

/// Where the first credentials of a chain come from.
#[derive(Debug, Clone)]
pub enum Base {
    /// `aws_access_key_id` and friends in a profile.
    Static {
        profile: String,
        credentials: Credentials,
    },
    /// `credential_process` in a profile.
    Process { profile: String, command: String },
    /// An SSO profile, through aws-config's provider and the token `aws sso login` left.
    Sso { profile: String },
    /// `credential_source` of a role profile: Environment, Ec2InstanceMetadata or EcsContainer.
    CredentialSource { profile: String, source: String },
    /// The credentials in this process's environment (a bare role ARN target).
    Environment { credentials: Credentials },
}

impl Base {
    /// Long-term keys are the only ones STS lets call GetSessionToken, which is what lets one
    /// MFA code serve many roles.
    pub fn is_long_term(&self) -> bool {
        match self {
            Base::Static { credentials, .. } | Base::Environment { credentials } => {
                credentials.session_token.is_none()
            }
            _ => false,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Base::Static { profile, .. } => format!("the keys of profile `{}`", printable(profile)),
            Base::Process { profile, .. } => {
                format!("the credential_process of profile `{}`", printable(profile))
            }
            Base::Sso { profile } => format!("the SSO session of profile `{}`", printable(profile)),
            Base::CredentialSource { source, .. } => {
                format!("the {} credentials", printable(source))
            }
            Base::Environment { .. } => "the credentials in your environment".into(),
        }
    }

    /// A stable description of whose credentials these are, for cache keys.
    pub fn identity(&self) -> String {
        match self {
            Base::Static {
                profile,
                credentials,
            } => format!("static:{profile}:{}", credentials.access_key_id),
            Base::Process { command, .. } => format!("process:{command}"),
            Base::Sso { profile } => format!("sso:{profile}"),
            Base::CredentialSource { profile, source } => format!("source:{profile}:{source}"),
            Base::Environment { credentials } => format!("env:{}", credentials.access_key_id),
        }
    }

    /// How a person renews these credentials when STS says they have expired.
    pub fn renewal_hint(&self) -> String {
        match self {
            Base::Static { profile, .. } => format!(
                "put fresh keys into profile `{}` in ~/.aws/credentials",
                printable(profile)
            ),
            Base::Process { profile, .. } => format!(
                "check what the credential_process of profile `{}` returns",
                printable(profile)
            ),
            Base::Sso { profile } => {
                format!("run `aws sso login --profile {}`", printable(profile))
            }
            Base::CredentialSource { .. } => "check the instance or container role".into(),
            Base::Environment { .. } => {
                "assume again from a profile, or export fresh keys into this shell".into()
            }
        }
    }
}

/// One AssumeRole call of a chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: Option<i64>,
}

/// Everything needed to turn a target into credentials: a base and the roles to assume from it,
/// in order.
#[derive(Debug, Clone)]
pub struct ProfileChain {
    pub target: String,
    pub profile: Option<String>,
    pub base: Base,
    pub hops: Vec<Hop>,
    pub mfa_serial: Option<String>,
    pub region: Option<String>,
}

impl ProfileChain {
    /// The role the target ends in: the last hop's, or none for a base-only profile.
    pub fn role_arn(&self) -> Option<&str> {
        self.hops.last().map(|h| h.role_arn.as_str())
    }
}

/// Resolved command-line overrides for the target hop.
pub struct Overrides {
    pub duration_seconds: Option<i64>,
    pub region: Option<String>,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub source_profile: Option<String>,
}

impl Overrides {
    pub fn from_flags(flags: &CredentialFlags) -> Result<Overrides> {
        let duration_seconds = match &flags.duration {
            None => None,
            Some(text) => Some(crate::time::parse_duration(text).ok_or_else(|| {
                Failure::usage(format!(
                    "`{}` is not a duration: use 15m, 1h, 1h30m or a number of seconds",
                    printable(text)
                ))
            })?),
        };
        if let Some(seconds) = duration_seconds {
            check_duration(seconds, "-d")?;
        }
        if let Some(id) = &flags.external_id {
            check_external_id(id)?;
        }
        if let Some(region) = &flags.region {
            check_region(region)?;
        }
        if let Some(name) = &flags.session_name {
            check_session_name(name)?;
        }
        Ok(Overrides {
            duration_seconds,
            region: flags.region.clone(),
            session_name: flags.session_name.clone(),
            external_id: flags.external_id.clone(),
            source_profile: flags.source_profile.clone(),
        })
    }
}

/// STS accepts 15 minutes to 12 hours; asking for more or less fails there anyway, later.
fn check_duration(seconds: i64, what: &str) -> Result<()> {
    if (900..=43_200).contains(&seconds) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{what} asks for {}; STS allows 15m to 12h (and 1h for chained roles)",
            crate::time::format_duration(seconds)
        )))
    }
}

fn check_external_id(id: &str) -> Result<()> {
    let valid = (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Failure::usage(
            "an external ID is 2 to 1224 of letters, digits and +=,.@:/_-",
        ))
    }
}

fn check_region(region: &str) -> Result<()> {
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not a region name (like eu-west-1)",
            printable(region)
        )))
    }
}

fn session_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)
}

fn check_session_name(name: &str) -> Result<()> {
    if (2..=64).contains(&name.len()) && name.bytes().all(session_name_byte) {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not a valid role session name: 2 to 64 of letters, digits and +=,.@_-",
            printable(name)
        )))
    }
}

/// The default session name: the local user, reduced to what STS accepts, so CloudTrail shows
/// who it was. The account database is asked first because shells disagree about `$USER`
/// (fish resets it), and the name must not change the cache key from one shell to another.
pub fn default_session_name() -> String {
    let user = account_name()
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_default();
    let mut name: String = user
        .bytes()
        .filter(|b| session_name_byte(*b))
        .map(char::from)
        .take(64)
        .collect();
    if name.len() < 2 {
        name = "rolecall".into();
    }
    name
}

fn account_name() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; it is read at once, on
    // the only thread that calls it.
    unsafe {
        let entry = libc::getpwuid(crate::cache::effective_uid());
        if entry.is_null() || (*entry).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*entry).pw_name)
            .to_str()
            .ok()
            .map(String::from)
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME` with a 12-digit account and a name.
pub fn is_role_arn(target: &str) -> bool {
    let parts: Vec<&str> = target.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && !partition.is_empty()
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
}

fn environment_credentials() -> Option<Credentials> {
    let get = crate::session::env_value;
    Some(Credentials {
        access_key_id: get("AWS_ACCESS_KEY_ID")?,
        secret_access_key: get("AWS_SECRET_ACCESS_KEY")?,
        session_token: get("AWS_SESSION_TOKEN").or_else(|| get("AWS_SECURITY_TOKEN")),
        expires: get("AWS_CREDENTIAL_EXPIRATION").and_then(|t| crate::time::parse_rfc3339(&t)),
    })
}

impl Config {
    /// Resolves a target (a profile name or a role ARN) into its chain.
    pub fn chain(&self, target: &str, overrides: &Overrides) -> Result<ProfileChain> {
        let mut chain = if is_role_arn(target) {
            self.role_arn_chain(target, overrides)?
        } else if target.starts_with("arn:") {
            return Err(Failure::usage(format!(
                "`{}` is not a role ARN: use arn:aws:iam::ACCOUNT:role/NAME with a 12-digit account",
                printable(target)
            )));
        } else {
            if self.profile(target).is_none() {
                return Err(self.unknown_profile(target, None));
            }
            if overrides.source_profile.is_some() {
                return Err(Failure::usage(
                    "--source-profile goes with a role ARN target; a profile names its own source",
                ));
            }
            self.profile_chain(target, target)?
        };
        if let Some(last) = chain.hops.last_mut() {
            if let Some(name) = &overrides.session_name {
                last.session_name = name.clone();
            }
            if let Some(id) = &overrides.external_id {
                last.external_id = Some(id.clone());
            }
            if let Some(seconds) = overrides.duration_seconds {
                last.duration_seconds = Some(seconds);
            }
        } else if overrides.external_id.is_some()
            || overrides.session_name.is_some()
            || overrides.duration_seconds.is_some()
        {
            return Err(Failure::usage(format!(
                "profile `{}` assumes no role, so --duration, --external-id and --session-name \
                 do not apply",
                printable(target)
            )));
        }
        if overrides.region.is_some() {
            chain.region = overrides.region.clone();
        }
        Ok(chain)
    }

    fn role_arn_chain(&self, arn: &str, overrides: &Overrides) -> Result<ProfileChain> {
        let source = overrides.source_profile.clone().or_else(|| {
            // Without a source named, the current credentials assume the role; failing those,
            // the profile the environment selects.
            if environment_credentials().is_some() {
                None
            } else {
                std::env::var("AWS_PROFILE")
                    .ok()
                    .filter(|p| !p.is_empty())
                    .or_else(|| self.profile("default").map(|_| "default".to_string()))
            }
        });
        let mut chain = match source {
            Some(profile) => {
                if self.profile(&profile).is_none() {
                    return Err(self.unknown_profile(&profile, None));
                }
                self.profile_chain(arn, &profile)?
            }
            None => {
                let credentials = environment_credentials().ok_or_else(|| {
                    Failure::usage(format!(
                        "no credentials to assume {} with: set AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY, or pass --source-profile PROFILE",
                        printable(arn)
                    ))
                })?;
                ProfileChain {
                    target: arn.to_string(),
                    profile: None,
                    base: Base::Environment { credentials },
                    hops: Vec::new(),
                    mfa_serial: None,
                    region: None,
                }
            }
        };
        chain.target = arn.to_string();
        chain.profile = None;
        chain.hops.push(Hop {
            role_arn: arn.to_string(),
            session_name: default_session_name(),
            external_id: None,
            duration_seconds: None,
        });
        if chain.region.is_none() {
            chain.region = crate::session::env_region();
        }
        Ok(chain)
    }

    /// Walks from `start` down `source_profile` links to a profile with credentials of its own.
    fn profile_chain(&self, target: &str, start: &str) -> Result<ProfileChain> {
        let mut visited: Vec<String> = Vec::new();
        let mut hops: Vec<Hop> = Vec::new();
        let mut mfa_serial: Option<String> = None;
        let mut name = start.to_string();
        let base = loop {
            let profile = self.profile(&name).expect("checked before the walk");
            visited.push(name.clone());
            if mfa_serial.is_none() {
                mfa_serial = non_empty(profile.get("mfa_serial"));
            }
            let Some(role_arn) = non_empty(profile.get("role_arn")) else {
                break self.base_of(profile)?;
            };
            if !is_role_arn(&role_arn) {
                return Err(Failure::usage(format!(
                    "profile `{}` has role_arn `{}`, which is not a role ARN \
                     (arn:aws:iam::ACCOUNT:role/NAME)",
                    printable(&name),
                    printable(&role_arn)
                )));
            }
            hops.push(self.hop(profile, role_arn)?);
            let source_profile = non_empty(profile.get("source_profile"));
            let credential_source = non_empty(profile.get("credential_source"));
            match (source_profile, credential_source) {
                (Some(_), Some(_)) => {
                    return Err(Failure::usage(format!(
                        "profile `{}` sets both source_profile and credential_source; keep one",
                        printable(&name)
                    )))
                }
                (None, Some(source)) => {
                    if !matches!(
                        source.as_str(),
                        "Environment" | "Ec2InstanceMetadata" | "EcsContainer"
                    ) {
                        return Err(Failure::usage(format!(
                            "profile `{}` has credential_source `{}`; use Environment, \
                             Ec2InstanceMetadata or EcsContainer",
                            printable(&name),
                            printable(&source)
                        )));
                    }
                    if source == "Environment" {
                        // Read now, so the cache key names these keys and a missing key is a
                        // configuration error, not a network one.
                        let credentials = environment_credentials().ok_or_else(|| {
                            Failure::usage(format!(
                                "profile `{}` takes its credentials from the environment \
                                 (credential_source = Environment), but AWS_ACCESS_KEY_ID and \
                                 AWS_SECRET_ACCESS_KEY are not set",
                                printable(&name)
                            ))
                            .with_code(ENVIRONMENT_KEYS_MISSING)
                        })?;
                        break Base::Environment { credentials };
                    }
                    break Base::CredentialSource {
                        profile: name.clone(),
                        source,
                    };
                }
                (None, None) => {
                    return Err(Failure::usage(format!(
                        "profile `{}` has a role_arn but no source_profile or \
                         credential_source to assume it with",
                        printable(&name)
                    )))
                }
                (Some(source), None) => {
                    // A profile may name itself to mean "assume my role with my own keys".
                    if source == name && profile.get("aws_access_key_id").is_some() {
                        break self.static_keys(profile)?;
                    }
                    if let Some(at) = visited.iter().position(|v| *v == source) {
                        let mut names: Vec<String> =
                            visited[at..].iter().map(|n| printable(n)).collect();
                        names.push(printable(&source));
                        return Err(Failure::usage(format!(
                            "source_profile loop: {}; break it by giving one of them \
                             credentials of its own",
                            names.join(" → ")
                        )));
                    }
                    if self.profile(&source).is_none() {
                        return Err(self.unknown_profile(&source, Some(&name)));
                    }
                    name = source;
                }
            }
        };
        hops.reverse();
        Ok(ProfileChain {
            target: target.to_string(),
            profile: Some(start.to_string()),
            base,
            hops,
            mfa_serial,
            region: self.region_along(&visited),
        })
    }

    fn hop(&self, profile: &Profile, role_arn: String) -> Result<Hop> {
        let duration_seconds = match non_empty(profile.get("duration_seconds")) {
            None => None,
            Some(text) => Some(text.parse::<i64>().ok().filter(|s| *s > 0).ok_or_else(|| {
                Failure::usage(format!(
                    "profile `{}` has duration_seconds `{}`; it must be a number of \
                             seconds, like 3600",
                    printable(profile.name()),
                    printable(&text)
                ))
            })?),
        };
        if let Some(seconds) = duration_seconds {
            check_duration(
                seconds,
                &format!(
                    "duration_seconds of profile `{}`",
                    printable(profile.name())
                ),
            )?;
        }
        let session_name = match non_empty(profile.get("role_session_name")) {
            Some(name) => {
                check_session_name(&name).map_err(|e| {
                    Failure::usage(format!("profile `{}`: {e}", printable(profile.name())))
                })?;
                name
            }
            None => default_session_name(),
        };
        if let Some(region) = non_empty(profile.get("region")) {
            check_region(&region).map_err(|e| {
                Failure::usage(format!("profile `{}`: {e}", printable(profile.name())))
            })?;
        }
        Ok(Hop {
            role_arn,
            session_name,
            external_id: non_empty(profile.get("external_id")),
            duration_seconds,
        })
    }

    fn base_of(&self, profile: &Profile) -> Result<Base> {
        let name = profile.name().to_string();
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            return Ok(Base::Sso { profile: name });
        }
        if let Some(command) = non_empty(profile.get("credential_process")) {
            return Ok(Base::Process {
                profile: name,
                command,
            });
        }
        if profile.get("aws_access_key_id").is_some() {
            return self.static_keys(profile);
        }
        Err(Failure::usage(format!(
            "profile `{}` has no credentials: give it role_arn with source_profile, \
             aws_access_key_id and aws_secret_access_key, credential_process, or SSO settings",
            printable(&name)
        )))
    }

    fn static_keys(&self, profile: &Profile) -> Result<Base> {
        let name = profile.name().to_string();
        let access_key_id = non_empty(profile.get("aws_access_key_id"));
        let secret_access_key = non_empty(profile.get("aws_secret_access_key"));
        match (access_key_id, secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Base::Static {
                profile: name,
                credentials: Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: non_empty(profile.get("aws_session_token")),
                    expires: None,
                },
            }),
            _ => Err(Failure::usage(format!(
                "profile `{}` needs both aws_access_key_id and aws_secret_access_key",
                printable(&name)
            ))),
        }
    }
}
