//! Identity Center from nothing: a start URL on the command line becomes an `[sso-session]` of
//! the config, so `sso populate URL --sso-region R` needs no hand-written INI. A URL some
//! session already names reuses that session; a new one is written through the same locked,
//! atomic rewrite as the populate block, every other byte of the file kept.

use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::{block, files, Profiles};

/// A start URL as the person typed it, checked: https, a host, no user, password, query,
/// fragment or control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartUrl {
    /// As written into the config: the URL as given, without surrounding whitespace.
    pub text: String,
    host: String,
}

impl StartUrl {
    pub fn parse(given: &str) -> std::result::Result<StartUrl, String> {
        let text = given.trim();
        let shown = printable(text);
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "the start URL `{shown}` holds a control character or a space"
            ));
        }
        let url = url::Url::parse(text).map_err(|e| {
            format!(
                "`{shown}` is not a start URL ({e}); it looks like https://NAME.awsapps.com/start"
            )
        })?;
        if url.scheme() != "https" {
            return Err(format!(
                "the start URL `{shown}` must be https (like https://NAME.awsapps.com/start)"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "the start URL `{shown}` carries a user name or password; give it without"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "the start URL `{shown}` carries a query or fragment (`?…`, `#…`); give it without"
            ));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("the start URL `{shown}` names no host"))?
            .to_ascii_lowercase();
        Ok(StartUrl {
            text: text.to_string(),
            host,
        })
    }

    /// Whether `other` (a config's sso_start_url) is this URL: the same once the host's case and
    /// a trailing slash are set aside.
    pub fn names(&self, other: &str) -> bool {
        StartUrl::parse(other).is_ok_and(|other| self.comparable() == other.comparable())
    }

    fn comparable(&self) -> String {
        let url = url::Url::parse(&self.text).expect("checked when parsed");
        format!(
            "{}{}",
            self.host,
            url.path().trim_end_matches('/').to_ascii_lowercase()
        )
    }

    /// The session name a URL gets when the person names none: the first label of an
    /// `awsapps.com` host (`acme` for acme.awsapps.com), else the host with every character a
    /// name may not hold made `-`.
    pub fn session_name(&self) -> String {
        let base = match self.host.strip_suffix(".awsapps.com") {
            Some(first) if !first.contains('.') => first.to_string(),
            _ => self.host.clone(),
        };
        let name: String = base
            .chars()
            .map(|c| if is_name_char(c) { c } else { '-' })
            .collect();
        let name = name.trim_matches('-').to_string();
        if name.is_empty() {
            "sso".into()
        } else {
            name
        }
    }
}

/// The characters an sso-session name written by rolecall may hold: no INI or shell meaning,
/// nothing botocore or the AWS CLI read differently.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Refuses a session name the person gave that rolecall would not write.
pub fn check_session_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(is_name_char) {
        return Err(format!(
            "the sso-session name `{}` may hold only letters, digits, `-`, `_` and `.` (at most 64)",
            printable(name)
        ));
    }
    Ok(())
}

/// What `ensure_session` did.
#[derive(Debug, PartialEq, Eq)]
pub struct Session {
    pub name: String,
    /// Written just now (false: the config had it).
    pub written: bool,
}

/// The sso-session of the config that names `url`, else a new one written for it: named `name`
/// when given, else after the URL (with `-2`, `-3`… when another session has that name), with
/// `region`, which a new session needs. Refusals change nothing.
pub fn ensure_session(
    env: &Env,
    url: &StartUrl,
    region: Option<&str>,
    name: Option<&str>,
) -> Result<Session> {
    if let Some(name) = name {
        check_session_name(name).map_err(Failure::usage)?;
    }
    if let Some(region) = region {
        crate::profile::validate::check_region(region)?;
    }
    let config_path = files::config_path(env).ok_or_else(|| {
        Failure::usage("no home directory and no AWS_CONFIG_FILE: nowhere to write the sso-session")
    })?;
    // Read and written under the lock, so two runs never add the session twice.
    let rewrite = block::Rewrite::begin(&config_path)?;
    let read = files::config_files(env)?;
    let profiles = Profiles::from_files(&read)?;
    let sessions: Vec<(String, Option<String>)> = profiles
        .sso_sessions()
        .into_iter()
        .map(|session| {
            let start_url = profiles
                .sso_login_of_session(session)
                .ok()
                .map(|login| login.start_url);
            (session.to_string(), start_url)
        })
        .collect();
    let named_url = |session: &(String, Option<String>)| {
        session.1.as_deref().is_some_and(|other| url.names(other))
    };
    match name {
        Some(name) => {
            if let Some(existing) = sessions.iter().find(|s| s.0 == name) {
                return if named_url(existing) {
                    Ok(Session {
                        name: name.to_string(),
                        written: false,
                    })
                } else {
                    Err(Failure::usage(format!(
                        "[sso-session {}] of your config has another start URL ({}); choose \
                         another --sso-session name",
                        printable(name),
                        printable(existing.1.as_deref().unwrap_or("none"))
                    )))
                };
            }
        }
        None => {
            if let Some(existing) = sessions.iter().find(|s| named_url(s)) {
                return Ok(Session {
                    name: existing.0.clone(),
                    written: false,
                });
            }
        }
    }
    let region = region.ok_or_else(|| {
        Failure::usage(format!(
            "no sso-session of your config has the start URL {}: add --sso-region REGION (the \
             region of your Identity Center, as its sign-in page shows it) to write one",
            printable(&url.text)
        ))
    })?;
    let name = match name {
        Some(name) => name.to_string(),
        None => free_name(&url.session_name(), &sessions),
    };
    let text = read
        .iter()
        .find(|f| f.is_config())
        .map(|f| f.contents.clone())
        .unwrap_or_default();
    let section = format!(
        "[sso-session {name}]\nsso_start_url = {}\nsso_region = {region}\n\
         sso_registration_scopes = sso:account:access\n",
        url.text
    );
    rewrite
        .commit(&appended(&text, &section))
        .map_err(Failure::local)?;
    Ok(Session {
        name,
        written: true,
    })
}

/// `wanted`, or `wanted-2`, `wanted-3`… when a session already has that name.
fn free_name(wanted: &str, sessions: &[(String, Option<String>)]) -> String {
    let taken = |name: &str| sessions.iter().any(|s| s.0 == name);
    if !taken(wanted) {
        return wanted.to_string();
    }
    (2..)
        .map(|n| format!("{wanted}-{n}"))
        .find(|name| !taken(name))
        .expect("some number is free")
}

/// `text` with `section` after it, one blank line between.
fn appended(text: &str, section: &str) -> String {
    match text {
        "" => section.to_string(),
        _ if text.ends_with("\n\n") => format!("{text}{section}"),
        _ if text.ends_with('\n') => format!("{text}\n{section}"),
        _ => format!("{text}\n\n{section}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_urls_are_https_without_credentials_query_or_controls() {
        assert!(StartUrl::parse("https://acme.awsapps.com/start").is_ok());
        assert!(StartUrl::parse("  https://acme.awsapps.com/start/  ").is_ok());
        for bad in [
            "http://acme.awsapps.com/start",
            "https://ana:pw@acme.awsapps.com/start",
            "https://ana@acme.awsapps.com/start",
            "https://acme.awsapps.com/start?x=1",
            "https://acme.awsapps.com/start#top",
            "https://acme.awsapps.com/st\u{1b}art",
            "https://acme.awsapps.com/st art",
            "acme.awsapps.com/start",
            "file:///etc/passwd",
            "",
        ] {
            assert!(StartUrl::parse(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn names_come_from_the_host_and_compare_without_case_or_trailing_slash() {
        let url = |text: &str| StartUrl::parse(text).unwrap();
        assert_eq!(url("https://acme.awsapps.com/start").session_name(), "acme");
        assert_eq!(
            url("https://d-9067a1b2c3.awsapps.com/start").session_name(),
            "d-9067a1b2c3"
        );
        assert_eq!(
            url("https://sso.corp.example:8443/start").session_name(),
            "sso.corp.example"
        );
        assert_eq!(url("https://[::1]/start").session_name(), "1");
        assert!(url("https://ACME.awsapps.com/start/").names("https://acme.awsapps.com/start"));
        assert!(!url("https://acme.awsapps.com/start").names("https://other.awsapps.com/start"));
        let sessions = vec![("acme".to_string(), None), ("acme-2".to_string(), None)];
        assert_eq!(free_name("acme", &sessions), "acme-3");
        assert_eq!(free_name("beta", &sessions), "beta");
        assert!(check_session_name("ok-name_1.x").is_ok());
        for bad in ["", "a b", "a]b", "a\nb", "ä"] {
            assert!(check_session_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_section_is_appended_after_one_blank_line() {
        assert_eq!(appended("", "[s]\n"), "[s]\n");
        assert_eq!(appended("[a]\n", "[s]\n"), "[a]\n\n[s]\n");
        assert_eq!(appended("[a]", "[s]\n"), "[a]\n\n[s]\n");
        assert_eq!(appended("[a]\n\n", "[s]\n"), "[a]\n\n[s]\n");
    }
}
