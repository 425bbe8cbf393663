//! A set of temporary credentials and what the shell should know about it: the one place that
//! decides which variables `assume` sets and unsets.

use serde::{Deserialize, Serialize};

/// Credentials as STS hands them out; `expires` is Unix seconds.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expires: Option<i64>,
}

impl std::fmt::Debug for Credentials {
    // Secrets never reach a log or a panic message, even by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    pub fn seconds_left(&self, now: i64) -> Option<i64> {
        self.expires.map(|e| e - now)
    }

    /// Why these credentials must not reach a shell, naming the field, if they must not: a NUL
    /// byte (no shell variable or process environment can carry one; the shells would silently
    /// cut the value there), a value longer than `LONGEST_FIELD_BYTES`, or an expiration outside
    /// the life temporary credentials can have. Refused where they come from.
    pub fn unfit(&self, now: i64) -> Option<String> {
        let fields = [
            ("access key ID", Some(&self.access_key_id)),
            ("secret access key", Some(&self.secret_access_key)),
            ("session token", self.session_token.as_ref()),
        ];
        for (field, value) in fields {
            let Some(value) = value else { continue };
            if value.contains('\0') {
                return Some(format!(
                    "a {field} with a NUL byte in it, which no shell or environment can hold"
                ));
            }
            if value.len() > LONGEST_FIELD_BYTES {
                return Some(format!(
                    "a {field} of {} bytes, longer than the {LONGEST_FIELD_BYTES} any real one \
                     needs",
                    value.len()
                ));
            }
        }
        match self.expires {
            Some(expires) if expires <= now => Some(format!(
                "an expiration that has passed: {}",
                expiration_text(expires)
            )),
            Some(expires) if expires - now > LONGEST_LIFE_SECONDS => Some(format!(
                "an expiration more than 36 hours away, longer than temporary credentials live: {}",
                expiration_text(expires)
            )),
            _ => None,
        }
    }
}

/// The longest credential value taken, in bytes. Real session tokens are about 1–2 KiB; a
/// shell exports every value to each command it starts, and Linux refuses a command whose
/// environment is too large ("Argument list too long"), so a huge value would break every
/// command after it, `rolecall` included. 8 KiB leaves tokens room to grow fourfold.
pub const LONGEST_FIELD_BYTES: usize = 8 * 1024;

/// The longest life temporary credentials can have: GetSessionToken's 36 hours, and the 5
/// minutes a clock may be behind STS's before STS refuses its requests.
pub const LONGEST_LIFE_SECONDS: i64 = 36 * 3600 + 5 * 60;

/// An expiration as RFC 3339, or as Unix seconds where that cannot show it.
fn expiration_text(expires: i64) -> String {
    match crate::time::rfc3339(expires) {
        text if text.is_empty() => format!("{expires} seconds after 1970"),
        text => text,
    }
}

/// The result of an assume: credentials for one target.
#[derive(Debug, Clone)]
pub struct Session {
    pub credentials: Credentials,
    /// What the user asked for: a profile name or a role ARN.
    pub target: String,
    /// The role the credentials belong to; none for a profile that assumes no role.
    pub role_arn: Option<String>,
    pub region: Option<String>,
    /// The profile a role ARN target was assumed from when one was named (`--source-profile`),
    /// so `assume -` can come back the same way.
    pub source_profile: Option<String>,
    pub origin: Origin,
    /// The target profile's settings that other tools read from variables too
    /// (`PROFILE_SETTINGS`), as (variable, value): what `AWS_PROFILE` would have carried to them.
    pub settings: Vec<(&'static str, String)>,
    /// For a session from an Identity Center login: when that login's token expires.
    pub login_expires: Option<i64>,
}

/// Where a session's credentials come from, as far as AWS sign-in cares: only a role's
/// credentials can open the console, and only those of a role assumed straight from long-term
/// keys may ask for a console session of their own length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Long-term keys, or their MFA session (GetSessionToken): no role.
    Keys,
    /// One AssumeRole from long-term keys (or their MFA session).
    FirstHop,
    /// Anything else: chained roles, SSO and credential-process sources.
    Other,
}

/// Every variable rolecall manages. Each assume unsets all of them before setting its own, so
/// nothing of an earlier session lingers; `--unset` removes them all.
pub const MANAGED_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CREDENTIAL_EXPIRATION",
    // Never set: beside keys, the AWS SDK for JavaScript v3 takes a named profile over them and
    // would sign as a session of its own. Unset so none lingers from elsewhere.
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "ROLECALL_PROFILE",
    "ROLECALL_ROLE_ARN",
    "ROLECALL_EXPIRES",
    "ROLECALL_SOURCE_PROFILE",
    "ROLECALL_PREVIOUS",
    "ROLECALL_LOGIN_EXPIRES",
    SETTINGS_VARIABLE,
];

/// Profile settings the AWS CLI and SDKs also read from a variable, as (setting, variable). With
/// no `AWS_PROFILE` beside the keys, an assume exports the target profile's own as variables, so
/// other tools still get them. A variable the person set themselves is left alone: it wins over
/// a profile's setting in every SDK, so it would have won over `AWS_PROFILE` too.
pub const PROFILE_SETTINGS: &[(&str, &str)] = &[
    ("ca_bundle", "AWS_CA_BUNDLE"),
    ("endpoint_url", "AWS_ENDPOINT_URL"),
    (
        "ignore_configured_endpoint_urls",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ),
    ("retry_mode", "AWS_RETRY_MODE"),
    ("max_attempts", "AWS_MAX_ATTEMPTS"),
    ("defaults_mode", "AWS_DEFAULTS_MODE"),
    ("output", "AWS_DEFAULT_OUTPUT"),
    ("cli_pager", "AWS_PAGER"),
    ("use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT"),
    ("use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT"),
    ("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS"),
    (
        "request_checksum_calculation",
        "AWS_REQUEST_CHECKSUM_CALCULATION",
    ),
    (
        "response_checksum_validation",
        "AWS_RESPONSE_CHECKSUM_VALIDATION",
    ),
    ("account_id_endpoint_mode", "AWS_ACCOUNT_ID_ENDPOINT_MODE"),
    ("sdk_ua_app_id", "AWS_SDK_UA_APP_ID"),
];

/// Names the `PROFILE_SETTINGS` variables the last assume set, space-separated, so the next one
/// (or `--unset`) removes exactly those and leaves a person's own alone.
pub const SETTINGS_VARIABLE: &str = "ROLECALL_SETTINGS";

/// The setting variables an earlier assume set in this environment: only names of
/// `PROFILE_SETTINGS`, whatever else the variable holds.
pub fn exported_settings(env: &crate::env::Env) -> Vec<&'static str> {
    let listed = env.get(SETTINGS_VARIABLE).unwrap_or_default();
    PROFILE_SETTINGS
        .iter()
        .map(|(_, variable)| *variable)
        .filter(|variable| listed.split(' ').any(|name| name == *variable))
        .collect()
}

/// Every variable an assume removes from this environment before it sets its own: the managed
/// ones and the settings an earlier assume exported.
pub fn variables_to_unset(env: &crate::env::Env) -> Vec<&'static str> {
    let mut names = MANAGED_VARIABLES.to_vec();
    names.extend(exported_settings(env));
    names
}

/// Takes the settings an earlier assume exported out of this process's environment, before
/// anything reads it: they were that session's, not this command's (rolecall's own calls would
/// otherwise go to the last profile's `endpoint_url`, and a child would inherit them).
pub fn forget_exported_settings() {
    for variable in exported_settings(&crate::env::Env::Process) {
        std::env::remove_var(variable);
    }
}

impl Session {
    /// One line for a person: `prod-admin (eu-west-1) · role prod-admin in 222222222222 ·
    /// expires 17:42 (59m)`.
    pub fn summary(&self, now: i64) -> String {
        use crate::error::printable;
        let mut line = printable(&self.target);
        if let Some(region) = &self.region {
            line.push_str(&format!(" ({})", printable(region)));
        }
        if let Some(arn) = &self.role_arn {
            // arn:aws:iam::ACCOUNT:role/PATH/NAME
            let account = arn.split(':').nth(4).unwrap_or("");
            let name = arn.rsplit('/').next().unwrap_or(arn);
            line.push_str(&format!(
                " · role {} in {}",
                printable(name),
                printable(account)
            ));
        }
        if let Some(expires) = self.credentials.expires {
            line.push_str(&format!(
                " · expires {} ({})",
                crate::time::local_clock(expires),
                crate::time::format_duration(expires.saturating_sub(now))
            ));
        }
        line
    }

    /// The variables this session puts into a shell or a child process, in a stable order.
    /// `previous` is the target the shell held before, for `assume -`.
    pub fn variables(&self, previous: Option<&str>) -> Vec<(&'static str, String)> {
        let creds = &self.credentials;
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone()),
        ];
        if let Some(token) = &creds.session_token {
            vars.push(("AWS_SESSION_TOKEN", token.clone()));
        }
        if let Some(region) = &self.region {
            vars.push(("AWS_REGION", region.clone()));
            vars.push(("AWS_DEFAULT_REGION", region.clone()));
        }
        if let Some(expires) = creds.expires {
            vars.push(("AWS_CREDENTIAL_EXPIRATION", crate::time::rfc3339(expires)));
        }
        vars.extend(self.settings.iter().cloned());
        vars.push(("ROLECALL_PROFILE", self.target.clone()));
        if let Some(role_arn) = &self.role_arn {
            vars.push(("ROLECALL_ROLE_ARN", role_arn.clone()));
        }
        if let Some(expires) = creds.expires {
            vars.push(("ROLECALL_EXPIRES", expires.to_string()));
        }
        if let Some(source) = &self.source_profile {
            vars.push(("ROLECALL_SOURCE_PROFILE", source.clone()));
        }
        if let Some(previous) = previous {
            vars.push(("ROLECALL_PREVIOUS", previous.to_string()));
        }
        if let Some(login_expires) = self.login_expires {
            vars.push(("ROLECALL_LOGIN_EXPIRES", login_expires.to_string()));
        }
        if !self.settings.is_empty() {
            let names: Vec<&str> = self.settings.iter().map(|(name, _)| *name).collect();
            vars.push((SETTINGS_VARIABLE, names.join(" ")));
        }
        vars
    }
}

/// The account of `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
pub fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// The role name of `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
pub fn arn_role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(token: Option<&str>, expires: Option<i64>) -> Session {
        Session {
            credentials: Credentials {
                access_key_id: "ASIA".into(),
                secret_access_key: "secret".into(),
                session_token: token.map(String::from),
                expires,
            },
            target: "prod-admin".into(),
            role_arn: Some("arn:aws:iam::222222222222:role/ops/admin".into()),
            region: Some("eu-west-1".into()),
            source_profile: None,
            origin: Origin::FirstHop,
            settings: vec![("AWS_DEFAULT_OUTPUT", "table".into())],
            login_expires: None,
        }
    }

    #[test]
    fn a_role_session_sets_every_variable_of_the_design() {
        let vars = session(Some("token"), Some(1_795_974_120)).variables(Some("dev"));
        let names: Vec<&str> = vars.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_CREDENTIAL_EXPIRATION",
                "AWS_DEFAULT_OUTPUT",
                "ROLECALL_PROFILE",
                "ROLECALL_ROLE_ARN",
                "ROLECALL_EXPIRES",
                "ROLECALL_PREVIOUS",
                "ROLECALL_SETTINGS",
            ]
        );
        let get = |name: &str| vars.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("AWS_CREDENTIAL_EXPIRATION"), "2026-11-29T17:42:00Z");
        assert_eq!(get("ROLECALL_EXPIRES"), "1795974120");
        assert_eq!(get("ROLECALL_PREVIOUS"), "dev");
        assert_eq!(get("ROLECALL_SETTINGS"), "AWS_DEFAULT_OUTPUT");
        // What this session sets, the next assume in the shell it made unsets.
        let after = crate::env::Env::of(&[("ROLECALL_SETTINGS", &get("ROLECALL_SETTINGS"))]);
        for (name, _) in &vars {
            assert!(
                variables_to_unset(&after).contains(name),
                "{name} is not unset by the next assume"
            );
        }
    }

    #[test]
    fn long_term_keys_set_no_token_or_expiry_and_an_arn_target_no_profile() {
        let mut keys = session(None, None);
        keys.role_arn = None;
        let names: Vec<&str> = keys.variables(None).iter().map(|(n, _)| *n).collect();
        assert!(!names.contains(&"AWS_SESSION_TOKEN") && !names.contains(&"ROLECALL_EXPIRES"));
        let mut arn = session(Some("t"), Some(10));
        arn.target = "arn:aws:iam::222222222222:role/x".into();
        arn.source_profile = Some("base".into());
        arn.settings.clear();
        let vars = arn.variables(None);
        assert!(!vars
            .iter()
            .any(|(n, _)| n.starts_with("AWS_") && n.ends_with("PROFILE")));
        assert!(!vars.iter().any(|(n, _)| *n == "ROLECALL_SETTINGS"));
        assert!(vars.contains(&("ROLECALL_SOURCE_PROFILE", "base".to_string())));
    }

    #[test]
    fn only_setting_variables_listed_by_an_earlier_assume_are_unset() {
        let env = crate::env::Env::of(&[(
            "ROLECALL_SETTINGS",
            "AWS_CA_BUNDLE PATH HOME AWS_PAGER AWS_CA_BUNDLEX",
        )]);
        assert_eq!(exported_settings(&env), ["AWS_CA_BUNDLE", "AWS_PAGER"]);
        let unset = variables_to_unset(&env);
        assert!(unset.contains(&"AWS_PROFILE") && unset.contains(&"AWS_CA_BUNDLE"));
        assert!(!unset.contains(&"PATH") && !unset.contains(&"AWS_ENDPOINT_URL"));
        let settings: Vec<&str> = PROFILE_SETTINGS.iter().map(|(_, v)| *v).collect();
        for variable in &settings {
            assert!(
                !MANAGED_VARIABLES.contains(variable),
                "{variable} would be taken from a person who set it"
            );
        }
    }

    #[test]
    fn the_summary_names_target_region_role_account_and_time_left() {
        let line = session(Some("t"), Some(1_000_000 + 3540)).summary(1_000_000);
        assert!(
            line.starts_with("prod-admin (eu-west-1) · role admin in 222222222222 · expires "),
            "{line}"
        );
        assert!(line.ends_with("(59m)"), "{line}");
    }
}
