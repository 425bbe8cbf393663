//! The walk from a target down its `source_profile` chain to the credentials everything starts
//! from: a `ProfileChain` of a base and the roles to assume from it, in order.

use super::set::{non_empty, Profiles};
use super::validate::{
    check_duration, check_region, check_session_name, is_role_arn, session_name_byte,
};
use super::TokenSource;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use aws_config::profile::Profile;

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
    /// A profile whose `credential_process` is rolecall's keyring line: the key `entry` names
    /// in the OS keyring, read by rolecall itself (`credentials` once the engine has read it;
    /// `key_id` as last seen, or as read).
    Keyring {
        profile: String,
        entry: String,
        key_id: Option<String>,
        credentials: Option<Credentials>,
    },
    /// An SSO profile: the portal's role credentials, with the token of its login (`rolecall
    /// sso login` or `aws sso login`), through aws-config's provider when the token file serves
    /// it, else asked for with the token rolecall holds.
    Sso {
        profile: String,
        login: super::set::SsoLogin,
        /// `sso_account_id` and `sso_role_name` (aws-config's provider checks they are set).
        account_id: Option<String>,
        role_name: Option<String>,
    },
    /// `credential_source` of a role profile: Environment, Ec2InstanceMetadata or EcsContainer.
    CredentialSource { profile: String, source: String },
    /// The credentials in this process's environment (a bare role ARN target).
    Environment { credentials: Credentials },
    /// An OIDC token: the chain's first hop is AssumeRoleWithWebIdentity with it, unsigned
    /// (`web_identity_token_file`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `--web-identity`).
    WebIdentity {
        source: TokenSource,
        /// Whose token it is (`webid::claims::Claims::whose`), once the engine has read it.
        whose: Option<String>,
    },
}

impl Base {
    /// Long-term keys are the only ones STS lets call GetSessionToken, which is what lets one
    /// MFA code serve many roles.
    pub fn is_long_term(&self) -> bool {
        match self {
            Base::Static { credentials, .. } | Base::Environment { credentials } => {
                credentials.session_token.is_none()
            }
            Base::Keyring { .. } => true,
            _ => false,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Base::Static { profile, .. } => format!("the keys of profile `{}`", printable(profile)),
            Base::Process { profile, .. } => {
                format!("the credential_process of profile `{}`", printable(profile))
            }
            Base::Keyring { profile, .. } => {
                format!("the keyring key of profile `{}`", printable(profile))
            }
            Base::Sso { profile, .. } => {
                format!("the SSO session of profile `{}`", printable(profile))
            }
            Base::CredentialSource { source, .. } => {
                format!("the {} credentials", printable(source))
            }
            Base::Environment { .. } => "the credentials in your environment".into(),
            Base::WebIdentity { source, .. } => source.describe(),
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
            Base::Keyring { entry, key_id, .. } => {
                format!("keyring:{entry}:{}", key_id.as_deref().unwrap_or(""))
            }
            Base::Sso { profile, .. } => Base::sso_identity(profile),
            Base::CredentialSource { profile, source } => format!("source:{profile}:{source}"),
            Base::Environment { credentials } => format!("env:{}", credentials.access_key_id),
            Base::WebIdentity { source, whose } => format!(
                "web-identity:{}:{}",
                source.identity(),
                whose.as_deref().unwrap_or("")
            ),
        }
    }

    /// The identity of an SSO profile's credentials in cache keys.
    pub fn sso_identity(profile: &str) -> String {
        format!("sso:{profile}")
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
            Base::Keyring { entry, .. } => format!(
                "rotate it with `rolecall keys rotate {0}`, or replace it: `rolecall keys remove \
                 {0}` and `rolecall keys add {0}`",
                printable(entry)
            ),
            Base::Sso { profile, .. } => {
                format!("run `rolecall sso login {}`", printable(profile))
            }
            Base::CredentialSource { .. } => "check the instance or container role".into(),
            Base::Environment { .. } => {
                "assume again from a profile, or export fresh keys into this shell".into()
            }
            Base::WebIdentity { source, .. } => source.renewal_hint(),
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

/// A command that prints the current MFA code (a hardware key's, a password manager's), and the
/// profile that names it.
#[derive(Debug, Clone)]
pub struct MfaProcess {
    pub profile: String,
    pub command: String,
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
    /// The first `mfa_process` found along the chain, as `mfa_serial` is.
    pub mfa_process: Option<MfaProcess>,
    pub region: Option<String>,
    /// The target profile's settings other tools read from variables too, as (variable, value).
    pub settings: Vec<(&'static str, String)>,
}

impl ProfileChain {
    /// The role the target ends in: the last hop's, or none for a base-only profile.
    pub fn role_arn(&self) -> Option<&str> {
        self.hops.last().map(|h| h.role_arn.as_str())
    }
}

/// What the person asked for beyond the target (the command line's flags, checked by the
/// caller with `validate`): they apply to the target's own hop.
#[derive(Default, Clone)]
pub struct Overrides {
    pub duration_seconds: Option<i64>,
    pub region: Option<String>,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub source_profile: Option<String>,
    /// `--web-identity`: the target's own role is assumed with this token instead.
    pub web_identity: Option<TokenSource>,
}

/// The default session name: the local user, reduced to what STS accepts, so CloudTrail shows
/// who it was. The account database is asked first because shells disagree about `$USER`
/// (fish resets it), and the name must not change the cache key from one shell to another.
pub fn default_session_name(env: &Env) -> String {
    let user = crate::os::account_name()
        .or_else(|| env.get("USER"))
        .or_else(|| env.get("LOGNAME"))
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

/// Where a role profile's credentials come from.
enum Source {
    /// `source_profile`: the walk goes on there.
    Profile(String),
    /// The chain ends here, in this base.
    Base(Base),
}

impl Profiles {
    /// Resolves a target (a profile name or a role ARN) into its chain.
    pub fn chain(&self, env: &Env, target: &str, overrides: &Overrides) -> Result<ProfileChain> {
        let mut chain = if is_role_arn(target) {
            self.role_arn_chain(env, target, overrides)?
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
            match &overrides.web_identity {
                Some(source) => self.profile_with_web_identity(env, target, source)?,
                None => self.profile_chain(env, target, target)?,
            }
        };
        if let (Base::WebIdentity { .. }, Some(serial)) = (&chain.base, &chain.mfa_serial) {
            return Err(Failure::usage(format!(
                "`{}` starts from a web identity token, which takes no MFA code; remove \
                 mfa_serial `{}` from its profiles",
                printable(target),
                printable(serial)
            )));
        }
        apply(&mut chain, overrides)?;
        Ok(chain)
    }

    /// A role profile's own role, assumed with `source` instead of the profile's source.
    fn profile_with_web_identity(
        &self,
        env: &Env,
        name: &str,
        source: &TokenSource,
    ) -> Result<ProfileChain> {
        let profile = self
            .profile(name)
            .ok_or_else(|| self.unknown_profile(name, None))?;
        let Some(role_arn) = non_empty(profile.get("role_arn")).filter(|arn| is_role_arn(arn))
        else {
            return Err(Failure::usage(format!(
                "profile `{}` has no role_arn for --web-identity to assume; name a role profile \
                 or a role ARN",
                printable(name)
            )));
        };
        Ok(ProfileChain {
            target: name.to_string(),
            profile: Some(name.to_string()),
            base: Base::WebIdentity {
                source: source.clone(),
                whose: None,
            },
            hops: vec![self.hop(env, profile, role_arn)?],
            mfa_serial: non_empty(profile.get("mfa_serial")),
            mfa_process: None,
            region: self.region_along(&[name.to_string()]),
            settings: self.settings_of(name),
        })
    }

    fn role_arn_chain(&self, env: &Env, arn: &str, overrides: &Overrides) -> Result<ProfileChain> {
        let in_environment = environment_web_identity(env)?;
        let source = overrides.source_profile.clone().or_else(|| {
            // Without a source named, the current credentials assume the role; failing those,
            // the profile the environment selects, the environment's web identity (as the SDKs
            // take it: after a [default] that has credentials), and last [default] anyway, for
            // its error.
            if env.credentials().is_some() || overrides.web_identity.is_some() {
                return None;
            }
            env.get("AWS_PROFILE").or_else(|| {
                self.profile("default")
                    .filter(|p| in_environment.is_none() || has_credentials(p))
                    .map(|_| "default".to_string())
            })
        });
        let mut chain = match (source, &overrides.web_identity, in_environment) {
            (Some(profile), _, _) => {
                if self.profile(&profile).is_none() {
                    return Err(self.unknown_profile(&profile, None));
                }
                self.profile_chain(env, arn, &profile)?
            }
            (None, Some(source), _) => ProfileChain {
                target: arn.to_string(),
                profile: None,
                base: Base::WebIdentity {
                    source: source.clone(),
                    whose: None,
                },
                hops: Vec::new(),
                mfa_serial: None,
                mfa_process: None,
                region: None,
                settings: Vec::new(),
            },
            (None, None, Some((token_file, first))) if env.credentials().is_none() => {
                let same_role = first.role_arn == arn;
                let chain = ProfileChain {
                    target: arn.to_string(),
                    profile: None,
                    base: Base::WebIdentity {
                        source: TokenSource::File(token_file),
                        whose: None,
                    },
                    hops: vec![first],
                    mfa_serial: None,
                    mfa_process: None,
                    region: env.region(),
                    settings: Vec::new(),
                };
                // The environment's own role is the target: nothing to assume from it.
                if same_role {
                    return Ok(chain);
                }
                chain
            }
            (None, None, _) => {
                let credentials = env.credentials().ok_or_else(|| {
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
                    mfa_process: None,
                    region: None,
                    settings: Vec::new(),
                }
            }
        };
        chain.target = arn.to_string();
        chain.profile = None;
        // A role ARN is no profile's session: the source's settings stay the source's.
        chain.settings.clear();
        chain.hops.push(Hop {
            role_arn: arn.to_string(),
            session_name: default_session_name(env),
            external_id: None,
            duration_seconds: None,
        });
        if chain.region.is_none() {
            chain.region = env.region();
        }
        Ok(chain)
    }

    /// Walks from `start` down `source_profile` links to a profile with credentials of its own.
    fn profile_chain(&self, env: &Env, target: &str, start: &str) -> Result<ProfileChain> {
        let mut visited: Vec<String> = Vec::new();
        let mut hops: Vec<Hop> = Vec::new();
        let mut mfa_serial: Option<String> = None;
        let mut mfa_process: Option<MfaProcess> = None;
        let mut name = start.to_string();
        let base = loop {
            let profile = self
                .profile(&name)
                .ok_or_else(|| self.unknown_profile(&name, None))?;
            visited.push(name.clone());
            if mfa_serial.is_none() {
                mfa_serial = non_empty(profile.get("mfa_serial"));
            }
            if mfa_process.is_none() {
                mfa_process = non_empty(profile.get("mfa_process")).map(|command| MfaProcess {
                    profile: name.clone(),
                    command,
                });
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
            hops.push(self.hop(env, profile, role_arn)?);
            match self.source_of(env, profile)? {
                Source::Base(base) => break base,
                Source::Profile(source) => {
                    self.check_link(&visited, &name, &source)?;
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
            mfa_process,
            region: self.region_along(&visited),
            settings: self.settings_of(start),
        })
    }

    /// Where a role profile's credentials come from: `source_profile` or `credential_source`.
    fn source_of(&self, env: &Env, profile: &Profile) -> Result<Source> {
        let name = profile.name();
        let source_profile = non_empty(profile.get("source_profile"));
        let named_source = non_empty(profile.get("credential_source"));
        if let Some(file) = non_empty(profile.get("web_identity_token_file")) {
            if source_profile.is_some() || named_source.is_some() {
                return Err(Failure::usage(format!(
                    "profile `{}` sets web_identity_token_file and {}; keep one",
                    printable(name),
                    if source_profile.is_some() {
                        "source_profile"
                    } else {
                        "credential_source"
                    }
                )));
            }
            return Ok(Source::Base(Base::WebIdentity {
                source: TokenSource::File(file.into()),
                whose: None,
            }));
        }
        match (source_profile, named_source) {
            (Some(_), Some(_)) => Err(Failure::usage(format!(
                "profile `{}` sets both source_profile and credential_source; keep one",
                printable(name)
            ))),
            (None, None) => Err(Failure::usage(format!(
                "profile `{}` has a role_arn but no source_profile or credential_source to \
                 assume it with",
                printable(name)
            ))),
            // A profile may name itself to mean "assume my role with my own keys".
            (Some(source), None)
                if source == name && profile.get("aws_access_key_id").is_some() =>
            {
                Ok(Source::Base(self.static_keys(profile)?))
            }
            (Some(source), None) => Ok(Source::Profile(source)),
            (None, Some(source)) => credential_source(env, name, source).map(Source::Base),
        }
    }

    /// A `source_profile` link from `name` to `source` that the walk may follow: no loop back
    /// to a profile already visited, and a profile that exists.
    fn check_link(&self, visited: &[String], name: &str, source: &str) -> Result<()> {
        if let Some(at) = visited.iter().position(|v| v == source) {
            let mut names: Vec<String> = visited[at..].iter().map(|n| printable(n)).collect();
            names.push(printable(source));
            return Err(Failure::usage(format!(
                "source_profile loop: {}; break it by giving one of them credentials of its own",
                names.join(" → ")
            )));
        }
        if self.profile(source).is_none() {
            return Err(self.unknown_profile(source, Some(name)));
        }
        Ok(())
    }

    fn hop(&self, env: &Env, profile: &Profile, role_arn: String) -> Result<Hop> {
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
            None => default_session_name(env),
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
            return Ok(Base::Sso {
                login: self.sso_login_of_profile(&name)?,
                account_id: non_empty(profile.get("sso_account_id")),
                role_name: non_empty(profile.get("sso_role_name")),
                profile: name,
            });
        }
        if let Some(command) = non_empty(profile.get("credential_process")) {
            if let Some(entry) = super::keyring_line::keyring_profile(&command) {
                return Ok(Base::Keyring {
                    profile: name,
                    entry,
                    key_id: None,
                    credentials: None,
                });
            }
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

/// The base named by `credential_source`: Environment, Ec2InstanceMetadata or EcsContainer.
fn credential_source(env: &Env, name: &str, source: String) -> Result<Base> {
    if !matches!(
        source.as_str(),
        "Environment" | "Ec2InstanceMetadata" | "EcsContainer"
    ) {
        return Err(Failure::usage(format!(
            "profile `{}` has credential_source `{}`; use Environment, Ec2InstanceMetadata or \
             EcsContainer",
            printable(name),
            printable(&source)
        )));
    }
    if source != "Environment" {
        return Ok(Base::CredentialSource {
            profile: name.to_string(),
            source,
        });
    }
    // Read now, so the cache key names these keys and a missing key is a configuration error,
    // not a network one.
    let credentials = env.credentials().ok_or_else(|| {
        Failure::usage(format!(
            "profile `{}` takes its credentials from the environment (credential_source = \
             Environment), but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            printable(name)
        ))
        .with_code(ENVIRONMENT_KEYS_MISSING)
    })?;
    Ok(Base::Environment { credentials })
}

/// Whether a profile gives credentials of its own (or a role), as the SDKs' profile provider
/// sees it: one without is passed over for the environment's web identity.
fn has_credentials(profile: &Profile) -> bool {
    [
        "role_arn",
        "aws_access_key_id",
        "credential_process",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
    ]
    .iter()
    .any(|key| non_empty(profile.get(key)).is_some())
}

/// The SDKs' environment form of web identity (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
/// `AWS_ROLE_SESSION_NAME`, as EKS pods get): the token file and the role's hop, when set.
fn environment_web_identity(env: &Env) -> Result<Option<(std::path::PathBuf, Hop)>> {
    let role_arn = env.get("AWS_ROLE_ARN").filter(|v| !v.is_empty());
    let token_file = env
        .get("AWS_WEB_IDENTITY_TOKEN_FILE")
        .filter(|v| !v.is_empty());
    let (Some(role_arn), Some(token_file)) = (role_arn, token_file) else {
        return Ok(None);
    };
    if !is_role_arn(&role_arn) {
        return Err(Failure::usage(format!(
            "AWS_ROLE_ARN is `{}`, which is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
            printable(&role_arn)
        )));
    }
    let session_name = match env.get("AWS_ROLE_SESSION_NAME").filter(|v| !v.is_empty()) {
        Some(name) => {
            check_session_name(&name)
                .map_err(|e| Failure::usage(format!("AWS_ROLE_SESSION_NAME: {e}")))?;
            name
        }
        None => default_session_name(env),
    };
    Ok(Some((
        token_file.into(),
        Hop {
            role_arn,
            session_name,
            external_id: None,
            duration_seconds: None,
        },
    )))
}

/// The overrides, applied to the target's own hop (and the region to the whole chain).
fn apply(chain: &mut ProfileChain, overrides: &Overrides) -> Result<()> {
    if overrides.external_id.is_some()
        && chain.hops.len() == 1
        && matches!(chain.base, Base::WebIdentity { .. })
    {
        return Err(Failure::usage(
            "--external-id does not apply to a role assumed with a web identity token \
             (AssumeRoleWithWebIdentity takes none)",
        ));
    }
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
            "profile `{}` assumes no role, so --duration, --external-id and --session-name do \
             not apply",
            printable(&chain.target)
        )));
    }
    if overrides.region.is_some() {
        chain.region = overrides.region.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::files::ConfigFile;
    use aws_runtime::env_config::file::EnvConfigFileKind;

    const KEYS: &str = "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = secret\n";

    fn profiles(config: &str, credentials: &str) -> Result<Profiles> {
        Profiles::from_files(&[
            ConfigFile {
                kind: EnvConfigFileKind::Config,
                path: "/home/ana/.aws/config".into(),
                contents: config.into(),
            },
            ConfigFile {
                kind: EnvConfigFileKind::Credentials,
                path: "/home/ana/.aws/credentials".into(),
                contents: credentials.into(),
            },
        ])
    }

    fn env() -> Env {
        Env::of(&[("USER", "ana")])
    }

    fn chain(config: &str, target: &str) -> Result<ProfileChain> {
        profiles(config, KEYS)?.chain(&env(), target, &Overrides::default())
    }

    #[test]
    fn a_chain_walks_down_to_its_base_and_lists_hops_first_to_last() {
        let config = "[profile base]\nregion = eu-west-1\n\
            [profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n\
            mfa_serial = arn:aws:iam::000000000000:mfa/ana\n\
            [profile b]\nrole_arn = arn:aws:iam::222222222222:role/b\nsource_profile = a\n\
            region = us-east-2\nrole_session_name = build\nexternal_id = ext-1\nduration_seconds = 1800\n\
            [profile c]\nrole_arn = arn:aws:iam::333333333333:role/c\nsource_profile = b\n";
        let chain = chain(config, "c").unwrap();
        let roles: Vec<&str> = chain.hops.iter().map(|h| h.role_arn.as_str()).collect();
        assert_eq!(
            roles,
            [
                "arn:aws:iam::111111111111:role/a",
                "arn:aws:iam::222222222222:role/b",
                "arn:aws:iam::333333333333:role/c"
            ]
        );
        assert!(matches!(&chain.base, Base::Static { profile, .. } if profile == "base"));
        assert_eq!(
            chain.mfa_serial.as_deref(),
            Some("arn:aws:iam::000000000000:mfa/ana")
        );
        // The nearest region down the chain, the hop's own settings on its hop.
        assert_eq!(chain.region.as_deref(), Some("us-east-2"));
        assert_eq!(chain.hops[1].session_name, "build");
        assert_eq!(chain.hops[1].external_id.as_deref(), Some("ext-1"));
        assert_eq!(chain.hops[1].duration_seconds, Some(1800));
        assert_eq!(chain.profile.as_deref(), Some("c"));
        assert_eq!(chain.role_arn(), Some("arn:aws:iam::333333333333:role/c"));
    }

    #[test]
    fn overrides_apply_to_the_target_hop_and_the_region_to_all() {
        let config = "[default]\nregion = ap-south-1\n[profile base]\n\
            [profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = base\n";
        let set = profiles(config, KEYS).unwrap();
        let plain = set.chain(&env(), "a", &Overrides::default()).unwrap();
        assert_eq!(
            plain.region.as_deref(),
            Some("ap-south-1"),
            "[default]'s region"
        );
        assert_eq!(
            plain.hops[0].session_name,
            crate::profile::chain::default_session_name(&env())
        );
        let overrides = Overrides {
            duration_seconds: Some(900),
            region: Some("eu-north-1".into()),
            session_name: Some("me".into()),
            external_id: Some("xyz".into()),
            source_profile: None,
            web_identity: None,
        };
        let chain = set.chain(&env(), "a", &overrides).unwrap();
        assert_eq!(chain.region.as_deref(), Some("eu-north-1"));
        assert_eq!(chain.hops[0].duration_seconds, Some(900));
        assert_eq!(chain.hops[0].session_name, "me");
        assert_eq!(chain.hops[0].external_id.as_deref(), Some("xyz"));
        let on_base = set.chain(&env(), "base", &overrides).unwrap_err();
        assert!(
            on_base.message.contains("assumes no role"),
            "{}",
            on_base.message
        );
    }

    #[test]
    fn bases_other_than_keys() {
        let config = "[profile proc]\ncredential_process = /bin/creds --x\n\
            [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
            sso_registration_scopes = sso:account:access, codewhisperer:completions\n\
            [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
            [profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n\
            sso_account_id = 1\nsso_role_name = r\n\
            [profile self]\nrole_arn = arn:aws:iam::111111111111:role/s\nsource_profile = self\n\
            aws_access_key_id = AKIASELF\naws_secret_access_key = s\n\
            [profile ec2]\nrole_arn = arn:aws:iam::111111111111:role/e\ncredential_source = Ec2InstanceMetadata\n\
            [profile envsrc]\nrole_arn = arn:aws:iam::111111111111:role/v\ncredential_source = Environment\n";
        assert!(
            matches!(chain(config, "proc").unwrap().base, Base::Process { command, .. } if command == "/bin/creds --x")
        );
        assert!(matches!(
            chain(config, "sso").unwrap().base,
            Base::Sso { .. }
        ));
        let own = chain(config, "self").unwrap();
        assert!(
            matches!(&own.base, Base::Static { credentials, .. } if credentials.access_key_id == "AKIASELF")
        );
        assert_eq!(own.hops.len(), 1);
        assert!(matches!(
            chain(config, "ec2").unwrap().base,
            Base::CredentialSource { .. }
        ));
        let with_keys = Env::of(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        let set = profiles(config, "").unwrap();
        let from_env = set
            .chain(&with_keys, "envsrc", &Overrides::default())
            .unwrap();
        assert!(
            matches!(&from_env.base, Base::Environment { credentials } if credentials.access_key_id == "AKIAENV")
        );
        let missing = set
            .chain(&env(), "envsrc", &Overrides::default())
            .unwrap_err();
        assert_eq!(missing.code.as_deref(), Some(ENVIRONMENT_KEYS_MISSING));
    }

    #[test]
    fn a_role_arn_target_takes_the_environment_then_a_named_or_selected_profile() {
        let arn = "arn:aws:iam::444444444444:role/x";
        let config = "[profile base]\nregion = eu-west-1\n";
        let set = profiles(config, KEYS).unwrap();
        let with_keys = Env::of(&[
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "sa-east-1"),
        ]);
        let chain = set.chain(&with_keys, arn, &Overrides::default()).unwrap();
        assert!(matches!(chain.base, Base::Environment { .. }));
        assert_eq!(chain.region.as_deref(), Some("sa-east-1"));
        assert_eq!(chain.profile, None);
        let named = Overrides {
            source_profile: Some("base".into()),
            ..Overrides::default()
        };
        let chain = set.chain(&with_keys, arn, &named).unwrap();
        assert!(matches!(&chain.base, Base::Static { profile, .. } if profile == "base"));
        assert_eq!(chain.region.as_deref(), Some("eu-west-1"));
        assert_eq!(chain.hops.last().unwrap().role_arn, arn);
        let selected = Env::of(&[("AWS_PROFILE", "base")]);
        let chain = set.chain(&selected, arn, &Overrides::default()).unwrap();
        assert!(matches!(&chain.base, Base::Static { profile, .. } if profile == "base"));
        let nothing = set.chain(&env(), arn, &Overrides::default()).unwrap_err();
        assert!(
            nothing.message.contains("pass --source-profile"),
            "{}",
            nothing.message
        );
        let on_profile = set.chain(&env(), "base", &named).unwrap_err();
        assert!(on_profile.message.contains("goes with a role ARN target"));
    }

    #[test]
    fn web_identity_profiles_start_a_chain_with_their_own_role() {
        let config = "[profile ci]\nrole_arn = arn:aws:iam::111111111111:role/ci\n\
            web_identity_token_file = /var/run/token\nrole_session_name = job\n\
            duration_seconds = 900\nregion = eu-west-1\n\
            [profile deploy]\nrole_arn = arn:aws:iam::222222222222:role/deploy\nsource_profile = ci\n";
        let own = chain(config, "ci").unwrap();
        assert!(
            matches!(&own.base, Base::WebIdentity { source, .. } if *source == TokenSource::File("/var/run/token".into()))
        );
        assert_eq!(own.hops.len(), 1);
        assert_eq!(own.hops[0].session_name, "job");
        assert_eq!(own.hops[0].duration_seconds, Some(900));
        assert_eq!(own.role_arn(), Some("arn:aws:iam::111111111111:role/ci"));
        let on_top = chain(config, "deploy").unwrap();
        let roles: Vec<&str> = on_top.hops.iter().map(|h| h.role_arn.as_str()).collect();
        assert_eq!(
            roles,
            [
                "arn:aws:iam::111111111111:role/ci",
                "arn:aws:iam::222222222222:role/deploy"
            ]
        );
        assert!(matches!(on_top.base, Base::WebIdentity { .. }));
        assert_eq!(on_top.region.as_deref(), Some("eu-west-1"));
        assert_eq!(own.base.identity(), "web-identity:file:/var/run/token:");
        assert!(!own.base.is_long_term());
    }

    #[test]
    fn the_environment_form_and_the_flag_give_web_identity_chains() {
        let arn = "arn:aws:iam::444444444444:role/pod";
        let other = "arn:aws:iam::555555555555:role/next";
        let pod = [
            ("AWS_ROLE_ARN", arn),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/eks/token"),
            ("AWS_ROLE_SESSION_NAME", "pod-1"),
            ("AWS_REGION", "ap-south-1"),
        ];
        let set = profiles("[default]\nregion = eu-west-1\n", "").unwrap();
        let direct = set
            .chain(&Env::of(&pod), arn, &Overrides::default())
            .unwrap();
        assert!(
            matches!(&direct.base, Base::WebIdentity { source, .. } if *source == TokenSource::File("/var/run/eks/token".into()))
        );
        assert_eq!(direct.hops.len(), 1);
        assert_eq!(direct.hops[0].session_name, "pod-1");
        assert_eq!(direct.region.as_deref(), Some("ap-south-1"));
        let further = set
            .chain(&Env::of(&pod), other, &Overrides::default())
            .unwrap();
        let roles: Vec<&str> = further.hops.iter().map(|h| h.role_arn.as_str()).collect();
        assert_eq!(roles, [arn, other]);
        // Keys in the environment, a profile named, or a [default] with credentials come first.
        let mut with_keys = pod.to_vec();
        with_keys.extend([
            ("AWS_ACCESS_KEY_ID", "AKIAENV"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ]);
        let keyed = set
            .chain(&Env::of(&with_keys), arn, &Overrides::default())
            .unwrap();
        assert!(matches!(keyed.base, Base::Environment { .. }));
        let keyed_default = profiles(
            "",
            "[default]\naws_access_key_id = A\naws_secret_access_key = s\n",
        )
        .unwrap();
        let from_default = keyed_default
            .chain(&Env::of(&pod), arn, &Overrides::default())
            .unwrap();
        assert!(matches!(from_default.base, Base::Static { .. }));
        let bad = Env::of(&[
            ("AWS_ROLE_ARN", "role"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ]);
        let refused = set.chain(&bad, arn, &Overrides::default()).unwrap_err();
        assert!(
            refused.message.contains("AWS_ROLE_ARN is `role`"),
            "{}",
            refused.message
        );

        let flag = Overrides {
            web_identity: Some(TokenSource::Variable("ID_TOKEN".into())),
            session_name: Some("run-7".into()),
            ..Overrides::default()
        };
        let from_flag = set.chain(&env(), other, &flag).unwrap();
        assert!(
            matches!(&from_flag.base, Base::WebIdentity { source, .. } if *source == TokenSource::Variable("ID_TOKEN".into()))
        );
        assert_eq!(from_flag.hops.len(), 1);
        assert_eq!(from_flag.hops[0].session_name, "run-7");
        let config =
            "[profile base]\n[profile deploy]\nrole_arn = arn:aws:iam::222222222222:role/deploy\n\
            source_profile = base\nregion = us-west-2\n[profile plain]\nregion = us-west-2\n\
            [profile mfa]\nrole_arn = arn:aws:iam::222222222222:role/m\nsource_profile = base\n\
            mfa_serial = arn:aws:iam::000000000000:mfa/ana\n";
        let set = profiles(config, KEYS).unwrap();
        let profile = set.chain(&env(), "deploy", &flag).unwrap();
        assert!(matches!(profile.base, Base::WebIdentity { .. }));
        assert_eq!(profile.hops.len(), 1);
        assert_eq!(profile.region.as_deref(), Some("us-west-2"));
        for (target, overrides, message) in [
            ("plain", flag.clone(), "has no role_arn for --web-identity"),
            ("mfa", flag.clone(), "takes no MFA code"),
            (
                "deploy",
                Overrides {
                    external_id: Some("x".into()),
                    ..flag.clone()
                },
                "--external-id does not apply",
            ),
        ] {
            let failure = set.chain(&env(), target, &overrides).unwrap_err();
            assert_eq!(failure.exit_code(), 2);
            assert!(failure.message.contains(message), "{}", failure.message);
        }
    }

    /// The bad-configuration catalogue: each is one line, a usage error (exit 2), saying what to
    /// fix. A few of these also run end to end through the binary (tests/it).
    #[test]
    fn bad_configuration_is_one_clear_line() {
        let loop_of_50: String = (1..=50)
            .map(|i| {
                format!(
                    "[profile hop{i}]\nrole_arn = arn:aws:iam::111111111111:role/r{i}\nsource_profile = hop{}\n",
                    i - 1
                )
            })
            .collect::<String>()
            + "[profile hop0]\nrole_arn = arn:aws:iam::111111111111:role/r0\nsource_profile = hop50\n";
        let role = "role_arn = arn:aws:iam::111111111111:role/x\n";
        let cases: Vec<(String, &str, &str)> = vec![
            (
                "[profile x]\nrole_arn\n".into(),
                "x",
                "/home/ana/.aws/config line 2",
            ),
            ("[profile x]\n= value\n".into(), "x", "does not parse"),
            ("[profile x\nfoo".into(), "x", "does not parse"),
            (
                format!("[profile x]\n{role}source_profile = x\n"),
                "x",
                "source_profile loop: x → x",
            ),
            (
                "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/a\nsource_profile = b\n\
                 [profile b]\nrole_arn = arn:aws:iam::111111111111:role/b\nsource_profile = c\n\
                 [profile c]\nrole_arn = arn:aws:iam::111111111111:role/c\nsource_profile = a\n"
                    .into(),
                "a",
                "source_profile loop: a → b → c → a",
            ),
            (loop_of_50, "hop50", "source_profile loop: hop50 → hop49"),
            (
                "[profile x]\nrole_arn = arn:aws:iam::111111111111\nsource_profile = x\n".into(),
                "x",
                "is not a role ARN",
            ),
            (
                "[profile x]\nrole_arn = arn:aws:iam::111111111111:user/x\nsource_profile = x\n"
                    .into(),
                "x",
                "is not a role ARN",
            ),
            (
                "[profile x]\nrole_arn = not-an-arn\nsource_profile = x\n".into(),
                "x",
                "which is not a role ARN",
            ),
            (
                format!("[profile x]\n{role}source_profile = base\nduration_seconds = 99999\n"),
                "x",
                "STS allows 15m to 12h",
            ),
            (
                format!("[profile x]\n{role}source_profile = base\nduration_seconds = soon\n"),
                "x",
                "duration_seconds `soon`",
            ),
            (
                format!("[profile x]\n{role}source_profile = base\nregion = Mars\n"),
                "x",
                "is not a region name",
            ),
            (
                format!("[profile x]\n{role}source_profile = base\nrole_session_name = a b\n"),
                "x",
                "not a valid role session name",
            ),
            (
                "[profile x]\naws_access_key_id = a\n".into(),
                "x",
                "needs both aws_access_key_id and aws_secret_access_key",
            ),
            (
                format!("[profile x]\n{role}credential_source = Laptop\n"),
                "x",
                "use Environment, Ec2InstanceMetadata or EcsContainer",
            ),
            (
                format!(
                    "[profile x]\n{role}source_profile = base\ncredential_source = Environment\n"
                ),
                "x",
                "sets both source_profile and credential_source",
            ),
            (
                format!("[profile x]\n{role}"),
                "x",
                "no source_profile or credential_source",
            ),
            (
                format!("[profile x]\n{role}web_identity_token_file = /t\nsource_profile = base\n"),
                "x",
                "sets web_identity_token_file and source_profile; keep one",
            ),
            (
                format!("[profile x]\n{role}source_profile = nope\n"),
                "x",
                "names source_profile `nope`, which does not exist",
            ),
            (
                "[profile x]\nregion = eu-west-1\n".into(),
                "x",
                "profile `x` has no credentials",
            ),
            (
                "[profile demo-admin]\nregion = x\n".into(),
                "demo-admn",
                "no profile named `demo-admn`; did you mean demo-admin?",
            ),
            (
                "[profile demo-admin]\nregion = x\n".into(),
                "zzzzzz",
                "`rolecall profiles` lists them",
            ),
            ("".into(), "arn:aws:iam::123:role/x", "is not a role ARN"),
            (
                "".into(),
                "arn:aws:iam::123456789012:role/",
                "is not a role ARN",
            ),
        ];
        for (config, target, message) in &cases {
            let failure = match profiles(config, KEYS) {
                Err(failure) => failure,
                Ok(set) => set
                    .chain(&env(), target, &Overrides::default())
                    .expect_err(config),
            };
            assert_eq!(failure.exit_code(), 2, "{config}: {}", failure.message);
            assert!(
                failure.message.contains(message),
                "{config}\n{}",
                failure.message
            );
            assert_eq!(
                failure.message.lines().count(),
                1,
                "{config}\n{}",
                failure.message
            );
        }
    }
}
