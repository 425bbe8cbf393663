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
use crate::profile::{Hop, TokenSource};
use crate::session::Credentials;
use std::io::Read;
use std::time::Duration;

/// The longest token STS takes (its WebIdentityToken limit); a longer one is refused unsent.
pub const MOST_TOKEN_BYTES: usize = 20_000;

/// The token, read now: a file's or a variable's text with surrounding whitespace trimmed,
/// or a new one from GitHub (within `limit`). Empty, oversized and unreadable tokens are
/// refused here; what the token says is `claims`'.
pub async fn read_token(source: &TokenSource, env: &Env, limit: Duration) -> Result<String> {
    let token = match source {
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
        return Err(Failure::usage(format!("{} is empty", source.describe())));
    }
    if token.len() > MOST_TOKEN_BYTES {
        return Err(Failure::usage(format!(
            "{} is {} bytes, longer than the {MOST_TOKEN_BYTES} STS accepts; is it a token?",
            source.describe(),
            token.len()
        )));
    }
    Ok(token)
}

/// The credentials of `hop`'s role, assumed with `token` (read from `source`): checked to be a
/// JWT that has not expired before it is sent, its claims named if STS refuses it.
pub async fn assume(
    sts: &Sts,
    source: &TokenSource,
    token: &str,
    hop: &Hop,
) -> Result<Credentials> {
    let claims = claims::check(token, source, crate::time::now())?;
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
    sts.assume_role_with_web_identity(token, hop, &context)
        .await
}

/// A token file's text, read up to one byte past the most STS takes: a regular file only, opened
/// without blocking (a FIFO at the path cannot hang the job).
fn read_file(path: &std::path::Path) -> Result<String> {
    let shown = printable(&path.to_string_lossy());
    let cannot = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            std::io::ErrorKind::PermissionDenied => "cannot be read: permission denied".into(),
            std::io::ErrorKind::InvalidInput => printable(&e.to_string()),
            _ => format!("cannot be read: {}", printable(&e.to_string())),
        };
        Failure::usage(format!("the web identity token file {shown} {why}"))
    };
    let mut bytes = Vec::new();
    if let Some((file, _)) = crate::profile::files::open_regular(path).map_err(cannot)? {
        file.take(MOST_TOKEN_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
    }
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
    fn a_token_is_read_fresh_and_trimmed_and_a_bad_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let source = TokenSource::File(path.clone());
        let env = Env::of(&[("T", "  a.b.c\n")]);
        let read = |source: &TokenSource| {
            crate::aws::net::block_on(read_token(source, &env, Duration::from_secs(1)))
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
        // A FIFO planted at the path is refused at once rather than waited on.
        std::fs::remove_file(&path).unwrap();
        let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path and touches nothing else.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(read(&source)
            .unwrap_err()
            .message
            .contains("is not a regular file"));
        assert_eq!(read(&TokenSource::Variable("T".into())).unwrap(), "a.b.c");
        let unset = read(&TokenSource::Variable("U".into())).unwrap_err();
        assert!(unset.message.contains("$U is not set"), "{}", unset.message);
    }
}
