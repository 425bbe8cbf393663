//! What a web identity token says about itself: its issuer, subject, audience and expiry, read
//! from the JWT's payload without checking its signature. rolecall trusts none of it; it only
//! reports it, so a refusal names what the role's trust policy must match, and an expired or
//! malformed token is caught before it is sent.

use crate::error::{printable, Failure, Result};
use crate::profile::TokenSource;
use base64::Engine;

/// The longest a claim is shown: a trust policy's patterns are shorter, and a token's own
/// text must not flood a terminal.
const MOST_SHOWN: usize = 200;

#[derive(Debug, Default, PartialEq)]
pub struct Claims {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audience: Vec<String>,
    pub expires: Option<i64>,
}

impl Claims {
    /// The claims of a JWT (`header.payload.signature`, the payload base64url JSON); None for
    /// anything else.
    pub fn of(token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let json = json.as_object()?;
        let text = |name: &str| json.get(name).and_then(|v| v.as_str()).map(String::from);
        let audience = match json.get("aud") {
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            Some(serde_json::Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        Some(Claims {
            issuer: text("iss"),
            subject: text("sub"),
            audience,
            expires: json.get("exp").and_then(|v| v.as_i64()),
        })
    }

    /// Whose token this is, for cache keys: its issuer, subject and audience (a session got
    /// with another subject's token is not this one's to reuse). Not the token, a secret.
    pub fn whose(token: &str) -> String {
        match Claims::of(token) {
            Some(claims) => format!(
                "{}|{}|{}",
                claims.issuer.unwrap_or_default(),
                claims.subject.unwrap_or_default(),
                claims.audience.join(",")
            ),
            None => String::new(),
        }
    }

    /// The claims in one line: `iss …, sub …, aud …, expires …`, each shown printable.
    pub fn describe(&self) -> String {
        let shown = |value: Option<&str>| match value {
            Some(text) => {
                let cut: String = text.chars().take(MOST_SHOWN).collect();
                let more = if cut.len() < text.len() { "…" } else { "" };
                format!("`{}{more}`", printable(&cut))
            }
            None => "(none)".into(),
        };
        let audience = match self.audience.as_slice() {
            [] => "(none)".to_string(),
            many => many
                .iter()
                .take(5)
                .map(|a| shown(Some(a)))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let expires = self
            .expires
            .map(crate::time::rfc3339)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "(none)".into());
        format!(
            "iss {}, sub {}, aud {audience}, expires {expires}",
            shown(self.issuer.as_deref()),
            shown(self.subject.as_deref())
        )
    }
}

/// The claims of the token `source` gave, when it can be sent: a JWT that has not expired.
pub fn check(token: &str, source: &TokenSource, now: i64) -> Result<Claims> {
    let claims = Claims::of(token).ok_or_else(|| {
        Failure::usage(format!(
            "{} is not a JWT (three base64url parts, the middle one a JSON object); is it an \
             OIDC token?",
            source.describe()
        ))
    })?;
    if let Some(expires) = claims.expires.filter(|t| *t <= now) {
        return Err(Failure::aws(format!(
            "{} expired at {} ({} ago; {}); {}",
            source.describe(),
            crate::time::rfc3339(expires),
            crate::time::format_duration(now - expires),
            claims.describe(),
            source.renewal_hint()
        )));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!("{}.{}.c2ln", encode(r#"{"alg":"RS256"}"#), encode(payload))
    }

    #[test]
    fn claims_are_read_and_described_printably() {
        let token = jwt(
            r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com","exp":2000000000}"#,
        );
        let claims = Claims::of(&token).unwrap();
        assert_eq!(
            claims.describe(),
            "iss `https://token.actions.githubusercontent.com`, sub \
             `repo:o/r:ref:refs/heads/main`, aud `sts.amazonaws.com`, expires 2033-05-18T03:33:20Z"
        );
        let hostile = Claims::of(&jwt(r#"{"sub":"a\u001b[2Jb\u202e","aud":["x","y"]}"#)).unwrap();
        let described = hostile.describe();
        assert!(described.contains("sub `a\\x1b[2Jb?`"), "{described}");
        assert!(described.contains("iss (none)") && described.contains("aud `x` `y`"));
        let long = Claims::of(&jwt(&format!(r#"{{"sub":"{}"}}"#, "s".repeat(5000)))).unwrap();
        assert!(long.describe().len() < 400);
    }

    #[test]
    fn a_token_that_is_not_a_jwt_or_has_expired_is_refused_without_quoting_it() {
        let source = TokenSource::Variable("T".into());
        for token in [
            "secret-opaque-token",
            "a.b",
            "a.b.c.d",
            "eyJ.!!!.c",
            &jwt("[1,2]"),
            &jwt("not json"),
        ] {
            let failure = check(token, &source, 1_000).unwrap_err();
            assert_eq!(failure.exit_code(), 2);
            assert!(
                failure.message.contains("is not a JWT"),
                "{}",
                failure.message
            );
            assert!(!failure.message.contains(token));
        }
        let expired = jwt(r#"{"sub":"x","exp":900}"#);
        let failure = check(&expired, &source, 1_000).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(
            failure.message.contains("expired at 1970-01-01T00:15:00Z"),
            "{}",
            failure.message
        );
        assert!(!failure.message.contains(&expired));
        assert!(check(&jwt(r#"{"exp":1001}"#), &source, 1_000).is_ok());
        assert!(
            check(&jwt("{}"), &source, 1_000).is_ok(),
            "no exp: STS decides"
        );
    }
}
