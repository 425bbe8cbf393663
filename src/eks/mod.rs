//! Kubernetes on EKS: `eks token` signs the token kubectl sends to the cluster with the session
//! rolecall holds (no network: the token is a presigned STS GetCallerIdentity URL), and `eks
//! kubeconfig` writes the kubeconfig entries whose user runs `eks token`. What a token is
//! (`token`) and how the kubeconfig is rewritten (`kubeconfig`) live beside this.

pub mod kubeconfig;
pub mod token;

use crate::engine::Request;
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use crate::session::Credentials;

/// The credentials a token is signed with, and the region their profile names.
pub struct Held {
    pub credentials: Credentials,
    pub region: Option<String>,
}

/// The session for `request` (a TARGET), else the credentials in the environment, which must
/// still be valid.
pub fn held(request: Option<&Request>, env: &Env) -> Result<Held> {
    if let Some(request) = request {
        let session = crate::engine::obtain(request)?;
        return Ok(Held {
            credentials: session.credentials,
            region: session.region,
        });
    }
    let credentials = env.credentials().ok_or_else(|| {
        Failure::usage(
            "there are no AWS credentials in the environment: name a profile or role (`rolecall \
             eks token PROFILE --cluster NAME`), or assume one first",
        )
    })?;
    if let Some(expires) = credentials.expires {
        if expires <= crate::time::now() {
            return Err(Failure::usage(format!(
                "the credentials in the environment expired at {}; assume again, or name a \
                 profile",
                crate::time::rfc3339(expires)
            )));
        }
    }
    Ok(Held {
        credentials,
        region: env.region(),
    })
}

/// The cluster's region: `-r`, else the profile's, else the environment's.
pub fn region(flag: Option<&str>, held: &Held, env: &Env) -> Result<String> {
    let region = flag
        .map(String::from)
        .or_else(|| held.region.clone())
        .or_else(|| env.region())
        .ok_or_else(|| {
            Failure::usage("name the cluster's region: -r REGION (or set AWS_REGION)")
        })?;
    check_region(&region)?;
    Ok(region)
}

/// A region as AWS names them (`eu-west-1`, `us-gov-east-1`): it becomes part of a host name.
pub fn check_region(region: &str) -> Result<()> {
    crate::profile::validate::check_region(region)?;
    let parts: Vec<&str> = region.split('-').collect();
    let shaped = parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n > 0 && !parts[parts.len() - 1].starts_with('0'));
    if shaped {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not a region name (like eu-west-1)",
            printable(region)
        )))
    }
}

/// A cluster name as EKS allows it: 1 to 100 letters, digits, `-` and `_`, starting with a
/// letter or digit.
pub fn check_cluster_name(name: &str) -> Result<()> {
    let fits = (1..=100).contains(&name.len())
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fits {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "`{}` is not an EKS cluster name: 1 to 100 letters, digits, - and _, starting with a \
             letter or digit",
            printable(name)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_cluster_names_are_checked() {
        for good in [
            "eu-west-1",
            "us-gov-east-1",
            "ap-southeast-10",
            "cn-north-1",
        ] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "nowhere",
            "eu-west",
            "eu-west-0",
            "EU-west-1",
            "e-west-1",
            "eu--1",
            "eu.x-1",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
        for good in ["a", "prod_1", "Prod-cluster-2", &"x".repeat(100)] {
            assert!(check_cluster_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "_x", "a b", "a.b", "a/b", &"x".repeat(101), "é"] {
            assert!(check_cluster_name(bad).is_err(), "{bad}");
        }
    }
}
