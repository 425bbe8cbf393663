//! The environment a command runs in, as a value: profile resolution and session reading take
//! it as an argument instead of asking the process, so a test builds one with the variables it
//! wants (as starship's `Context` does) and resolves a whole bad-configuration catalogue in
//! process. The one reader of credentials from the environment lives here, and `EnvSession`,
//! what the environment says about the session a shell holds.

use crate::session::{arn_account, arn_role_name, Credentials};
use std::collections::HashMap;
use std::ffi::OsString;

pub enum Env {
    /// This process's environment, read when asked.
    Process,
    /// Exactly these variables.
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(HashMap<String, OsString>),
}

impl Env {
    /// An environment of exactly `pairs`, for tests.
    #[cfg(test)]
    pub fn of(pairs: &[(&str, &str)]) -> Env {
        Env::Fixed(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), OsString::from(value)))
                .collect(),
        )
    }

    /// A variable's raw value when it is set and not empty (paths need not be UTF-8).
    pub fn get_os(&self, name: &str) -> Option<OsString> {
        let value = match self {
            Env::Process => std::env::var_os(name),
            Env::Fixed(vars) => vars.get(name).cloned(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// A variable's value when it is set, not empty and text.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_os(name).and_then(|v| v.into_string().ok())
    }

    /// The region the environment names, as the AWS SDKs read it.
    pub fn region(&self) -> Option<String> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }

    /// The credentials in the environment, as the AWS SDKs read them: both keys or nothing, the
    /// session token under either of its names, the expiry when one is given.
    pub fn credentials(&self) -> Option<Credentials> {
        Some(Credentials {
            access_key_id: self.get("AWS_ACCESS_KEY_ID")?,
            secret_access_key: self.get("AWS_SECRET_ACCESS_KEY")?,
            session_token: self
                .get("AWS_SESSION_TOKEN")
                .or_else(|| self.get("AWS_SECURITY_TOKEN")),
            expires: self
                .get("AWS_CREDENTIAL_EXPIRATION")
                .and_then(|t| crate::time::parse_rfc3339(&t)),
        })
    }

    /// The home directory: `$HOME`, else the user database's (dirs' rule).
    pub fn home(&self) -> Option<std::path::PathBuf> {
        match self {
            Env::Process => dirs::home_dir(),
            Env::Fixed(_) => self.get_os("HOME").map(std::path::PathBuf::from),
        }
    }
}

/// What the environment says about the session a shell holds: read by `prompt`, `status` and
/// `doctor` without touching any file.
pub struct EnvSession {
    pub profile: String,
    pub role_arn: Option<String>,
    pub region: Option<String>,
    pub expires: Option<i64>,
    /// When the Identity Center login behind the session ends (its token's expiry at the
    /// assume), for an SSO-based session.
    pub login_expires: Option<i64>,
}

impl EnvSession {
    /// The variables `read` looks at.
    pub const VARIABLES: &'static [&'static str] = &[
        "ROLECALL_PROFILE",
        "ROLECALL_ROLE_ARN",
        "ROLECALL_EXPIRES",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "ROLECALL_LOGIN_EXPIRES",
    ];

    /// The rolecall session in this environment, if any.
    pub fn read(env: &Env) -> Option<EnvSession> {
        Some(EnvSession {
            profile: env.get("ROLECALL_PROFILE")?,
            role_arn: env.get("ROLECALL_ROLE_ARN"),
            region: env.region(),
            expires: env
                .get("ROLECALL_EXPIRES")
                .and_then(|e| e.parse().ok())
                .or_else(|| {
                    env.get("AWS_CREDENTIAL_EXPIRATION")
                        .and_then(|t| crate::time::parse_rfc3339(&t))
                }),
            login_expires: env
                .get("ROLECALL_LOGIN_EXPIRES")
                .and_then(|e| e.parse().ok()),
        })
    }

    pub fn account(&self) -> Option<&str> {
        self.role_arn.as_deref().map(arn_account)
    }

    pub fn role_name(&self) -> Option<&str> {
        self.role_arn.as_deref().map(arn_role_name)
    }

    /// Seconds left, never overflowing whatever the environment holds.
    pub fn seconds_left(&self, now: i64) -> Option<i64> {
        self.expires.map(|e| e.saturating_sub(now))
    }

    /// The environment's credentials, for calls that check them, expiring when the session
    /// says.
    pub fn credentials(&self, env: &Env) -> Option<Credentials> {
        let mut credentials = env.credentials()?;
        credentials.expires = credentials.expires.or(self.expires);
        Some(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_need_both_keys_and_take_either_token_name() {
        assert!(Env::of(&[("AWS_ACCESS_KEY_ID", "AKIA")])
            .credentials()
            .is_none());
        let env = Env::of(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SECURITY_TOKEN", "old-name"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-11-29T17:42:00Z"),
        ]);
        let credentials = env.credentials().unwrap();
        assert_eq!(credentials.session_token.as_deref(), Some("old-name"));
        assert_eq!(credentials.expires, Some(1_795_974_120));
        assert_eq!(Env::of(&[("AWS_REGION", "")]).region(), None);
        assert_eq!(
            Env::of(&[("AWS_DEFAULT_REGION", "eu-west-1")])
                .region()
                .as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn the_environment_session_reads_expiry_from_either_variable() {
        let env = Env::of(&[
            ("ROLECALL_PROFILE", "dev"),
            ("AWS_CREDENTIAL_EXPIRATION", "2026-11-29T17:42:00Z"),
        ]);
        let state = EnvSession::read(&env).unwrap();
        assert_eq!(state.expires, Some(1_795_974_120));
        assert!(EnvSession::read(&Env::of(&[])).is_none());
        let env = Env::of(&[("ROLECALL_PROFILE", "dev"), ("ROLECALL_EXPIRES", "99")]);
        assert_eq!(EnvSession::read(&env).unwrap().seconds_left(100), Some(-1));
    }
}
