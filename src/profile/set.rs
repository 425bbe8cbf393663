//! The profiles of the config and credentials files as aws-config parsed them, looked up by
//! name, with the suggestions for a name that is not there.

use super::files;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use aws_config::profile::{Profile, ProfileSet};

/// The parsed config and credentials files, merged the way every AWS SDK merges them.
pub struct Profiles {
    set: ProfileSet,
}

impl Profiles {
    /// Every profile of the files `env` names.
    pub fn load(env: &Env) -> Result<Profiles> {
        Self::from_files(&files::config_files(env)?)
    }

    pub fn from_set(set: ProfileSet) -> Profiles {
        Profiles { set }
    }

    pub fn from_files(files: &[files::ConfigFile]) -> Result<Profiles> {
        Ok(Profiles {
            set: files::parse_attributed(files)?,
        })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.set.get_profile(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.set.profiles()
    }

    /// A usage failure for a profile name that does not exist, naming the nearest ones.
    pub fn unknown_profile(&self, name: &str, referrer: Option<&str>) -> Failure {
        let what = match referrer {
            Some(r) => format!(
                "profile `{}` names source_profile `{}`, which does not exist",
                printable(r),
                printable(name)
            ),
            None => format!("no profile named `{}`", printable(name)),
        };
        let hint =
            crate::error::nearest_names(name, self.names(), "; `rolecall profiles` lists them");
        Failure::usage(what + &hint)
    }

    /// The region a profile names, else the nearest one down its source chain, else
    /// `[default]`'s.
    pub fn region_along(&self, chain: &[String]) -> Option<String> {
        chain
            .iter()
            .filter_map(|name| self.profile(name))
            .chain(self.profile("default"))
            .find_map(|p| non_empty(p.get("region")))
    }
}

impl Profiles {
    /// The settings of `name` other tools also read from variables (`PROFILE_SETTINGS`), as
    /// (variable, value): its own, not its source profile's, as `AWS_PROFILE` would give them.
    pub fn settings_of(&self, name: &str) -> Vec<(&'static str, String)> {
        let Some(profile) = self.profile(name) else {
            return Vec::new();
        };
        crate::session::PROFILE_SETTINGS
            .iter()
            .filter_map(|(setting, variable)| Some((*variable, non_empty(profile.get(setting))?)))
            .collect()
    }
}

/// A profile's setting, trimmed, when it has one that is not empty.
pub fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// An IAM Identity Center login as the config describes it: an `[sso-session NAME]`, or a
/// legacy profile with its own `sso_start_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLogin {
    /// The sso-session's name; none for a legacy profile.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
}

/// The scope the AWS CLI registers with when `sso_registration_scopes` names none.
const DEFAULT_SCOPES: &[&str] = &["sso:account:access"];

impl SsoLogin {
    /// What the AWS tools hash to name the token file: the session's name, else the start URL.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// The login in words, for messages.
    pub fn describe(&self) -> String {
        match &self.session {
            Some(name) => format!("sso-session `{}`", printable(name)),
            None => format!("the SSO start URL {}", printable(&self.start_url)),
        }
    }
}

impl Profiles {
    /// The names of the `[sso-session …]` sections, sorted.
    pub fn sso_sessions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.set.sso_sessions().collect();
        names.sort_unstable();
        names
    }

    /// The login an `[sso-session NAME]` section describes.
    pub fn sso_login_of_session(&self, name: &str) -> Result<SsoLogin> {
        let section = self.set.sso_session(name).ok_or_else(|| {
            let known = self.sso_sessions();
            let hint = if known.is_empty() {
                "there is no [sso-session …] section in your config".to_string()
            } else {
                format!("the config has {}", printable(&known.join(", ")))
            };
            Failure::usage(format!("no [sso-session {}]: {hint}", printable(name)))
        })?;
        let setting = |key: &str| {
            non_empty(section.get(key)).ok_or_else(|| {
                Failure::usage(format!("[sso-session {}] needs {key}", printable(name)))
            })
        };
        let region = setting("sso_region")?;
        super::validate::check_region(&region).map_err(|e| {
            Failure::usage(format!("[sso-session {}] sso_region: {e}", printable(name)))
        })?;
        Ok(SsoLogin {
            session: Some(name.to_string()),
            start_url: setting("sso_start_url")?,
            region,
            scopes: scopes(section.get("sso_registration_scopes")),
        })
    }

    /// The login a profile uses: its sso-session's, or its own start URL and region.
    pub fn sso_login_of_profile(&self, name: &str) -> Result<SsoLogin> {
        let profile = self
            .profile(name)
            .ok_or_else(|| self.unknown_profile(name, None))?;
        if let Some(session) = non_empty(profile.get("sso_session")) {
            return self.sso_login_of_session(&session);
        }
        let setting = |key: &str| {
            non_empty(profile.get(key)).ok_or_else(|| {
                Failure::usage(format!(
                    "profile `{}` is not an SSO profile: it needs sso_session, or sso_start_url \
                     and sso_region ({key} is missing)",
                    printable(name)
                ))
            })
        };
        let region = setting("sso_region")?;
        super::validate::check_region(&region).map_err(|e| {
            Failure::usage(format!("profile `{}` sso_region: {e}", printable(name)))
        })?;
        Ok(SsoLogin {
            session: None,
            start_url: setting("sso_start_url")?,
            region,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// `sso_registration_scopes`: comma-separated, else the AWS CLI's default.
fn scopes(setting: Option<&str>) -> Vec<String> {
    let named: Vec<String> = setting
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if named.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        named
    }
}
