//! Web identity federation: a role assumed with an OIDC token (a CI job's, a pod's) instead of
//! stored keys, through STS's unsigned AssumeRoleWithWebIdentity. Here: where the token comes
//! from (a file, a variable, GitHub Actions' token endpoint), what its claims say (`claims`,
//! read without trusting them, only to explain a refusal), and GitHub's `$GITHUB_ENV`
//! (`github`). The token itself is never printed.

pub mod claims;
pub mod github;

use crate::aws::explain::CallContext;
use crate::aws::sts::Sts;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::profile::Hop;
use crate::session::Credentials;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// The longest token STS takes (its WebIdentityToken limit); a longer one is refused unsent.
pub const MOST_TOKEN_BYTES: usize = 20_000;

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

    /// The token, read now: a file's or a variable's text with surrounding whitespace trimmed,
    /// or a new one from GitHub (within `limit`). Empty, oversized and unreadable tokens are
    /// refused here; what the token says is `claims`'.
    pub async fn read(&self, env: &Env, limit: Duration) -> Result<String> {
        let token = match self {
            TokenSource::File(path) => read_file(path)?,
            TokenSource::Variable(name) => env.get(name).ok_or_else(|| {
                Failure::usage(format!(
                    "--web-identity env:{0}: ${0} is not set (in GitLab CI, declare it under \
                     the job's id_tokens)",
                    printable(name)
                ))
            })?,
            TokenSource::Github { audience } => github::token(env, audience, limit).await?,
        };
        let token = token.trim().to_string();
        if token.is_empty() {
            return Err(Failure::usage(format!("{} is empty", self.describe())));
        }
        if token.len() > MOST_TOKEN_BYTES {
            return Err(Failure::usage(format!(
                "{} is {} bytes, longer than the {MOST_TOKEN_BYTES} STS accepts; is it a token?",
                self.describe(),
                token.len()
            )));
        }
        Ok(token)
    }
}

/// The credentials of `hop`'s role, assumed with a token read from `source` now: checked to be
/// a JWT that has not expired before it is sent, its claims named if STS refuses it.
pub async fn assume(sts: &Sts, source: &TokenSource, hop: &Hop, env: &Env) -> Result<Credentials> {
    let token = source.read(env, sts.timeout()).await?;
    let claims = claims::check(&token, source, crate::time::now())?;
    let context = CallContext {
        operation: "AssumeRoleWithWebIdentity",
        role_arn: Some(&hop.role_arn),
        caller: source.describe(),
        renewal: source.renewal_hint(),
        caller_expires: claims.expires,
        used_mfa: false,
        chained: false,
        duration_seconds: hop.duration_seconds,
        token_claims: Some(claims.describe()),
    };
    sts.assume_role_with_web_identity(&token, hop, &context)
        .await
}

/// A token file's text, read up to one byte past the most STS takes.
fn read_file(path: &std::path::Path) -> Result<String> {
    let shown = printable(&path.to_string_lossy());
    let cannot = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".into(),
            _ => format!("cannot be read: {}", printable(&e.to_string())),
        };
        Failure::usage(format!("the web identity token file {shown} {why}"))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MOST_TOKEN_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::usage(format!(
            "the web identity token file {shown} is not text; is it a token?"
        ))
    })
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

    #[test]
    fn a_token_is_read_fresh_and_trimmed_and_a_bad_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let source = TokenSource::File(path.clone());
        let env = Env::of(&[("T", "  a.b.c\n")]);
        let read = |source: &TokenSource| {
            crate::aws::net::block_on(source.read(&env, Duration::from_secs(1)))
        };
        assert!(read(&source)
            .unwrap_err()
            .message
            .contains("does not exist"));
        std::fs::write(&path, "\n one.two.three \n").unwrap();
        assert_eq!(read(&source).unwrap(), "one.two.three");
        std::fs::write(&path, "four.five.six").unwrap();
        assert_eq!(
            read(&source).unwrap(),
            "four.five.six",
            "read again each time"
        );
        std::fs::write(&path, " \n").unwrap();
        assert!(read(&source).unwrap_err().message.ends_with("is empty"));
        std::fs::write(&path, "x".repeat(MOST_TOKEN_BYTES + 10)).unwrap();
        assert!(read(&source).unwrap_err().message.contains("longer than"));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read(&source).unwrap_err().message.contains("is not text"));
        assert_eq!(read(&TokenSource::Variable("T".into())).unwrap(), "a.b.c");
        let unset = read(&TokenSource::Variable("U".into())).unwrap_err();
        assert!(unset.message.contains("$U is not set"), "{}", unset.message);
    }
}
