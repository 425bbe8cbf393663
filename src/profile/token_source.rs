//! Where a web identity token is to be read: a file, a variable, or GitHub Actions' token
//! endpoint. Only the words and the checks of it live here; reading it is `webid`'s.

use crate::error::{printable, Failure, Result};
use std::path::PathBuf;

/// The audience GitHub's token is asked for unless `--audience` names another: the one AWS's
/// OIDC providers are set up with.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// Where a web identity token is read, each time one is needed (they last minutes).
#[derive(Debug, Clone, PartialEq)]
pub enum TokenSource {
    /// A file (`web_identity_token_file`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `file:PATH`).
    File(PathBuf),
    /// A variable (`env:VAR`: GitLab's `id_tokens`, and others).
    Variable(String),
    /// GitHub Actions' token endpoint, for this audience.
    Github { audience: String },
}

impl TokenSource {
    /// `--web-identity SOURCE` with `--audience`: `github`, `file:PATH` or `env:VAR`.
    pub fn parse(text: &str, audience: Option<&str>) -> Result<TokenSource> {
        let source = if text == "github" {
            let audience = audience.unwrap_or(DEFAULT_AUDIENCE);
            if audience.is_empty()
                || audience.len() > 256
                || !audience.bytes().all(|b| (b'!'..=b'~').contains(&b))
            {
                return Err(Failure::usage(format!(
                    "--audience `{}` is not an audience: up to 256 printable characters without \
                     spaces, like sts.amazonaws.com",
                    printable(audience)
                )));
            }
            TokenSource::Github {
                audience: audience.to_string(),
            }
        } else if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err(Failure::usage(
                    "--web-identity file: needs a path: file:PATH",
                ));
            }
            TokenSource::File(PathBuf::from(path))
        } else if let Some(name) = text.strip_prefix("env:") {
            let valid = name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(Failure::usage(format!(
                    "--web-identity env:`{}` does not name a variable: env:NAME, with letters, \
                     digits and _",
                    printable(name)
                )));
            }
            TokenSource::Variable(name.to_string())
        } else {
            return Err(Failure::usage(format!(
                "--web-identity `{}` is not a token source: use github, file:PATH or env:VAR",
                printable(text)
            )));
        };
        if audience.is_some() && !matches!(source, TokenSource::Github { .. }) {
            return Err(Failure::usage(
                "--audience goes with --web-identity github: a token from a file or a variable \
                 has its audience already",
            ));
        }
        Ok(source)
    }

    /// The token, in words: "the web identity token in file `…`".
    pub fn describe(&self) -> String {
        match self {
            TokenSource::File(path) => format!(
                "the web identity token in file `{}`",
                printable(&path.to_string_lossy())
            ),
            TokenSource::Variable(name) => {
                format!("the web identity token in ${}", printable(name))
            }
            TokenSource::Github { .. } => "the GitHub Actions OIDC token".into(),
        }
    }

    /// What names this source in cache keys: the token is read only when a call is needed.
    pub fn identity(&self) -> String {
        match self {
            TokenSource::File(path) => format!("file:{}", path.to_string_lossy()),
            TokenSource::Variable(name) => format!("env:{name}"),
            TokenSource::Github { audience } => format!("github:{audience}"),
        }
    }

    /// How a person gets a token STS takes.
    pub fn renewal_hint(&self) -> String {
        match self {
            TokenSource::File(path) => format!(
                "put a fresh token in {} (whatever writes it may have stopped)",
                printable(&path.to_string_lossy())
            ),
            TokenSource::Variable(name) => {
                format!("set ${} to a fresh token", printable(name))
            }
            TokenSource::Github { .. } => "run the job again".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_bad_ones_say_what_is_wrong() {
        assert_eq!(
            TokenSource::parse("github", None).unwrap(),
            TokenSource::Github {
                audience: DEFAULT_AUDIENCE.into()
            }
        );
        assert_eq!(
            TokenSource::parse("github", Some("api://Aws")).unwrap(),
            TokenSource::Github {
                audience: "api://Aws".into()
            }
        );
        assert_eq!(
            TokenSource::parse("file:/var/run/token", None).unwrap(),
            TokenSource::File("/var/run/token".into())
        );
        assert_eq!(
            TokenSource::parse("env:AWS_TOKEN", None).unwrap(),
            TokenSource::Variable("AWS_TOKEN".into())
        );
        for (text, audience, expected) in [
            ("gitlab", None, "use github, file:PATH or env:VAR"),
            ("file:", None, "needs a path"),
            ("env:", None, "does not name a variable"),
            ("env:1X", None, "does not name a variable"),
            ("env:A B", None, "does not name a variable"),
            (
                "env:X",
                Some("a"),
                "--audience goes with --web-identity github",
            ),
            ("github", Some(""), "is not an audience"),
            ("github", Some("a b"), "is not an audience"),
            ("\u{1b}[2J", None, "\\x1b[2J"),
        ] {
            let failure = TokenSource::parse(text, audience).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "{text}");
            assert!(failure.message.contains(expected), "{}", failure.message);
        }
    }
}
