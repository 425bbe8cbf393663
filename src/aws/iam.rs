//! The IAM calls of a key rotation: list, create and delete the caller's own access keys. IAM
//! is global; its endpoint follows the SDK's variables like every other service rolecall calls.

use super::net::{checked_endpoint, overall_timeout, retries, time_limits, Service};
use crate::error::Result;
use crate::session::Credentials;
use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_iam::config::{BehaviorVersion, Region};

pub const IAM_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"];

/// IAM answers in us-east-1 for the commercial partition; a profile's region picks the others.
const FALLBACK_REGION: &str = "us-east-1";

pub struct Iam {
    client: aws_sdk_iam::Client,
    service: Service,
}

/// An access key as IAM lists it.
pub struct KeyMetadata {
    pub access_key_id: String,
    pub active: bool,
}

/// A key IAM has just created: the only moment its secret is known.
pub struct NewKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub created: Option<i64>,
}

impl Iam {
    /// An IAM client whose calls are signed with `credentials`.
    pub fn new(region: Option<&str>, credentials: &Credentials) -> Result<Iam> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(IAM_ENDPOINT_VARIABLES)?;
        let region = region.unwrap_or(FALLBACK_REGION).to_string();
        let mut builder = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .retry_config(retries())
            .timeout_config(time_limits(timeout))
            .credentials_provider(SdkCredentials::new(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.clone(),
                credentials.session_token.clone(),
                None,
                "rolecall",
            ));
        if let Some(url) = &endpoint {
            builder = builder.endpoint_url(url.clone());
        }
        Ok(Iam {
            client: aws_sdk_iam::Client::from_conf(builder.build()),
            service: Service {
                name: "IAM",
                variable: "AWS_ENDPOINT_URL_IAM",
                endpoint: endpoint.unwrap_or_else(|| "https://iam.amazonaws.com".into()),
                timeout,
            },
        })
    }

    /// The caller's own access keys.
    pub async fn list_keys(&self) -> Result<Vec<KeyMetadata>> {
        let output = self
            .client
            .list_access_keys()
            .send()
            .await
            .map_err(|e| self.service.explain("ListAccessKeys", e))?;
        Ok(output
            .access_key_metadata()
            .iter()
            .filter_map(|key| {
                Some(KeyMetadata {
                    access_key_id: key.access_key_id()?.to_string(),
                    active: key
                        .status()
                        .is_some_and(|s| *s == aws_sdk_iam::types::StatusType::Active),
                })
            })
            .collect())
    }

    pub async fn create_key(&self) -> Result<NewKey> {
        let output = self
            .client
            .create_access_key()
            .send()
            .await
            .map_err(|e| self.service.explain("CreateAccessKey", e))?;
        let key = output
            .access_key()
            .filter(|k| !k.access_key_id().is_empty() && !k.secret_access_key().is_empty())
            .ok_or_else(|| self.service.malformed("CreateAccessKey"))?;
        Ok(NewKey {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: key.secret_access_key().to_string(),
            created: key.create_date().map(|date| date.secs()),
        })
    }

    /// Deletes one of the caller's keys; one IAM no longer has counts as deleted.
    pub async fn delete_key(&self, access_key_id: &str) -> Result<()> {
        match self
            .client
            .delete_access_key()
            .access_key_id(access_key_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.service.explain("DeleteAccessKey", e)),
        }
    }
}
