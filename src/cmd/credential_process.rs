//! `rolecall credential-process`: the JSON (Version 1) that AWS SDKs read from a
//! `credential_process`, so any tool can use a rolecall profile and its cache.

use crate::cli::CredentialProcessArgs;
use crate::error::Result;
use serde_json::json;

pub fn run(args: CredentialProcessArgs) -> Result<()> {
    let env = crate::env::Env::Process;
    let session = crate::engine::obtain(&super::request(&args.target, &args.flags, &env)?)?;
    let credentials = &session.credentials;
    let mut document = json!({
        "Version": 1,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
    });
    if let Some(token) = &credentials.session_token {
        document["SessionToken"] = json!(token);
    }
    if let Some(expires) = credentials.expires {
        document["Expiration"] = json!(crate::time::rfc3339(expires));
    }
    super::emit(&(document.to_string() + "\n"))
}
