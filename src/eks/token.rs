//! An EKS token: `k8s-aws-v1.` and the unpadded base64url of an STS GetCallerIdentity URL
//! presigned (SigV4, by aws-sigv4) for 60 seconds, with the header `x-k8s-aws-id: CLUSTER`
//! signed in. The cluster's authenticator calls that URL to learn who is asking; signing it
//! needs no network. kubectl gets it in an ExecCredential.

use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::Credentials;
use base64::Engine;
use std::time::{Duration, SystemTime};

const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
const CLUSTER_HEADER: &str = "x-k8s-aws-id";
/// How long the URL is valid for, as the AWS CLI signs it; EKS accepts a token for 15 minutes
/// after it is signed whatever this says.
const URL_LIFETIME: Duration = Duration::from_secs(60);
/// When kubectl should fetch a new token: a minute before EKS stops taking it, as the AWS CLI
/// tells it.
pub const TOKEN_LIFETIME_SECONDS: i64 = 14 * 60;

const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
const V1: &str = "client.authentication.k8s.io/v1";

pub struct Token {
    pub token: String,
    /// Unix seconds: when kubectl should ask for a new one.
    pub expires: i64,
}

/// The token for `cluster` in `region`, signed at `at` with `credentials`.
pub fn sign(
    credentials: &Credentials,
    region: &str,
    cluster: &str,
    at: SystemTime,
) -> Result<Token> {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let cannot = |e: &dyn std::fmt::Display| Failure::local(format!("cannot sign the token: {e}"));
    let identity = aws_credential_types::Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "rolecall",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_LIFETIME);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| cannot(&e))?
        .into();
    let url = format!(
        "https://{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_host(region)
    );
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once((CLUSTER_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| cannot(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| cannot(&e))?
        .into_parts();
    let mut request = http::Request::get(url.as_str())
        .body(())
        .map_err(|e| cannot(&e))?;
    instructions.apply_to_request_http1x(&mut request);
    let presigned = request.uri().to_string();
    let signed = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|e| cannot(&e))?
        .as_secs() as i64;
    let expires = match credentials.expires {
        Some(end) => end.min(signed + TOKEN_LIFETIME_SECONDS),
        None => signed + TOKEN_LIFETIME_SECONDS,
    };
    Ok(Token {
        token: format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
        ),
        expires,
    })
}

/// The region's STS endpoint, which the authenticator accepts tokens for.
fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

/// What kubectl said about the call (`KUBERNETES_EXEC_INFO`): the ExecCredential version it
/// wants, and whether someone can answer on the terminal.
pub struct ExecInfo {
    api_version: &'static str,
    /// None when kubectl did not say (run by hand).
    pub interactive: Option<bool>,
}

impl ExecInfo {
    pub fn read(env: &Env) -> Result<ExecInfo> {
        let Some(text) = env.get("KUBERNETES_EXEC_INFO") else {
            return Ok(ExecInfo {
                api_version: V1BETA1,
                interactive: None,
            });
        };
        let unreadable = || {
            Failure::usage(
                "KUBERNETES_EXEC_INFO is not the ExecCredential JSON kubectl sets; unset it to \
                 run `rolecall eks token` by hand",
            )
        };
        let info: serde_json::Value = serde_json::from_str(&text).map_err(|_| unreadable())?;
        let api_version = match info.get("apiVersion").and_then(|v| v.as_str()) {
            Some(V1) => V1,
            Some(V1BETA1) => V1BETA1,
            Some(other) => {
                return Err(Failure::usage(format!(
                    "kubectl asked for an ExecCredential of {}; rolecall writes {V1BETA1} and {V1}",
                    printable(other)
                )))
            }
            None => return Err(unreadable()),
        };
        Ok(ExecInfo {
            api_version,
            interactive: info.pointer("/spec/interactive").and_then(|v| v.as_bool()),
        })
    }

    /// The ExecCredential kubectl reads, with `token` in it.
    pub fn credential(&self, token: &Token) -> String {
        let credential = serde_json::json!({
            "kind": "ExecCredential",
            "apiVersion": self.api_version,
            "spec": {},
            "status": {
                "expirationTimestamp": crate::time::rfc3339(token.expires),
                "token": token.token,
            },
        });
        format!("{credential}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(expires: Option<i64>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("token/with+signs=".into()),
            expires,
        }
    }

    fn url_of(token: &Token) -> String {
        let encoded = token.token.strip_prefix(TOKEN_PREFIX).unwrap();
        assert!(!encoded.contains('='));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_token_is_a_presigned_get_caller_identity_url_that_names_the_cluster() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = sign(&credentials(None), "eu-west-1", "prod", at).unwrap();
        let url = url_of(&token);
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        for part in [
            "X-Amz-Expires=60",
            "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
            "X-Amz-Security-Token=token%2Fwith%2Bsigns%3D",
            "X-Amz-Date=20270115T080000Z",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert_eq!(token.expires, 1_800_000_000 + 14 * 60);
        let cn = url_of(&sign(&credentials(None), "cn-north-1", "prod", at).unwrap());
        assert!(
            cn.starts_with("https://sts.cn-north-1.amazonaws.com.cn/"),
            "{cn}"
        );
    }

    #[test]
    fn a_token_expires_no_later_than_its_session() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = sign(&credentials(Some(1_800_000_100)), "eu-west-1", "c", at).unwrap();
        assert_eq!(token.expires, 1_800_000_100);
    }

    #[test]
    fn kubectl_s_exec_info_picks_the_version_and_says_who_can_answer() {
        let token = Token {
            token: "k8s-aws-v1.x".into(),
            expires: 0,
        };
        let read = |info: &str| ExecInfo::read(&Env::of(&[("KUBERNETES_EXEC_INFO", info)]));
        let v1 = read(r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#).unwrap();
        assert_eq!(v1.interactive, Some(false));
        let printed: serde_json::Value = serde_json::from_str(&v1.credential(&token)).unwrap();
        assert_eq!(printed["apiVersion"], V1);
        assert_eq!(printed["status"]["token"], "k8s-aws-v1.x");
        assert_eq!(
            printed["status"]["expirationTimestamp"],
            "1970-01-01T00:00:00Z"
        );
        let by_hand = ExecInfo::read(&Env::of(&[])).unwrap();
        assert_eq!((by_hand.api_version, by_hand.interactive), (V1BETA1, None));
        assert!(read("{").is_err());
        assert!(read(r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#).is_err());
    }
}
