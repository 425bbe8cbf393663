//! An EKS token checked offline as the cluster's authenticator would check it before calling STS
//! (the prefix, unpadded base64url, an STS host, GetCallerIdentity, an expiry of at most 60
//! seconds, `x-k8s-aws-id` signed in, a recent date), and its SigV4 signature recomputed here
//! from the secret as STS would: written from the SigV4 specification, not rolecall's signer.

use base64::Engine;
use sha2::{Digest, Sha256};

/// What the token must have been signed with.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// Checks `token` for `cluster` at `now` (Unix seconds); the reason it is refused.
pub fn check(token: &str, cluster: &str, signer: &Signer, now: i64) -> Result<(), String> {
    let encoded = token
        .strip_prefix("k8s-aws-v1.")
        .ok_or("no k8s-aws-v1. prefix")?;
    if encoded.contains('=') {
        return Err("padded base64".into());
    }
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| format!("not base64url: {e}"))?;
    let url = String::from_utf8(url).map_err(|_| "not text")?;
    let url = url::Url::parse(&url).map_err(|e| format!("not a URL: {e}"))?;
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let one = |name: &str| -> Result<String, String> {
        let values: Vec<&String> = params
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        match values.as_slice() {
            [value] => Ok((*value).clone()),
            _ => Err(format!("{name} given {} times", values.len())),
        }
    };
    if url.scheme() != "https" || url.path() != "/" {
        return Err(format!("not https://…/: {url}"));
    }
    let host = url.host_str().ok_or("no host")?;
    let credential = one("X-Amz-Credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, day, region, "sts", "aws4_request"] = scope.as_slice() else {
        return Err(format!("credential scope {credential}"));
    };
    if *key_id != signer.access_key_id {
        return Err(format!("signed by {key_id}"));
    }
    if host != format!("sts.{region}.amazonaws.com") && host != "sts.amazonaws.com" {
        return Err(format!("host {host} is not STS in {region}"));
    }
    if one("Action")? != "GetCallerIdentity" || one("Version")? != "2011-06-15" {
        return Err("not GetCallerIdentity of 2011-06-15".into());
    }
    if one("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return Err("not AWS4-HMAC-SHA256".into());
    }
    let expires: i64 = one("X-Amz-Expires")?.parse().map_err(|_| "X-Amz-Expires")?;
    if !(1..=60).contains(&expires) {
        return Err(format!("X-Amz-Expires={expires}"));
    }
    let signed_headers = one("X-Amz-SignedHeaders")?;
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"x-k8s-aws-id") || !names.contains(&"host") {
        return Err(format!("signed headers {signed_headers}"));
    }
    let date = one("X-Amz-Date")?;
    let signed_at = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| format!("X-Amz-Date {date}"))?
        .and_utc()
        .timestamp();
    if !date.starts_with(day) || (now - signed_at).abs() > 15 * 60 {
        return Err(format!("signed at {date}, scope day {day}"));
    }
    if let Some(expected) = signer.session_token {
        if one("X-Amz-Security-Token")? != expected {
            return Err("another session token".into());
        }
    }
    let canonical_query = {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(name, _)| name != "X-Amz-Signature")
            .map(|(n, v)| (uri_encode(n), uri_encode(v)))
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let header_value = |name: &str| match name {
        "host" => Ok(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }),
        // The verifier's own cluster name, not the token's: that is what binds it.
        "x-k8s-aws-id" => Ok(cluster.to_string()),
        other => Err(format!(
            "a signed header the authenticator does not send: {other}"
        )),
    };
    let mut canonical_headers = String::new();
    for name in &names {
        canonical_headers.push_str(&format!("{name}:{}\n", header_value(name)?));
    }
    let empty_payload = hex(&Sha256::digest(b""));
    let canonical_request = format!(
        "GET\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{empty_payload}"
    );
    let scope = format!("{day}/{region}/sts/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", signer.secret_access_key).as_bytes(),
        day.as_bytes(),
    );
    for part in [*region, "sts", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if one("X-Amz-Signature")? != expected {
        return Err("the signature does not match".into());
    }
    Ok(())
}

/// SigV4's URI encoding: every byte but the unreserved ones as %XX, upper-case.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token of an ExecCredential as `eks token` or `aws eks get-token` print it.
pub fn of_exec_credential(printed: &serde_json::Value) -> &str {
    printed["status"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no status.token in {printed}"))
}
