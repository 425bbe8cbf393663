//! The EKS calls of `eks kubeconfig`: a cluster's endpoint and certificate authority, and the
//! region's cluster names. The endpoint follows `AWS_ENDPOINT_URL_EKS` like every SDK's.

use super::net::{checked_endpoint, overall_timeout, retries, time_limits, Service};
use crate::error::Result;
use crate::session::Credentials;
use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_eks::config::{BehaviorVersion, Region};

pub const EKS_ENDPOINT_VARIABLES: &[&str] = &["AWS_ENDPOINT_URL_EKS", "AWS_ENDPOINT_URL"];

pub struct Eks {
    client: aws_sdk_eks::Client,
    service: Service,
}

/// What kubectl needs of a cluster.
pub struct Cluster {
    pub arn: String,
    /// The API server's https URL.
    pub endpoint: String,
    /// The certificate authority's PEM, base64 as EKS gives it.
    pub certificate_authority: String,
}

impl Eks {
    /// An EKS client in `region` whose calls are signed with `credentials`.
    pub fn new(region: &str, credentials: &Credentials) -> Result<Eks> {
        let timeout = overall_timeout()?;
        let endpoint = checked_endpoint(EKS_ENDPOINT_VARIABLES)?;
        let mut builder = aws_sdk_eks::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
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
        Ok(Eks {
            client: aws_sdk_eks::Client::from_conf(builder.build()),
            service: Service {
                name: "EKS",
                variable: "AWS_ENDPOINT_URL_EKS",
                endpoint: endpoint.unwrap_or_else(|| format!("https://eks.{region}.amazonaws.com")),
                timeout,
            },
        })
    }

    /// The cluster named `name`; a cluster without an endpoint yet (being created) is refused.
    pub async fn describe(&self, name: &str) -> Result<Cluster> {
        let output = self
            .client
            .describe_cluster()
            .name(name)
            .send()
            .await
            .map_err(|e| self.service.explain("DescribeCluster", e))?;
        let cluster = output
            .cluster()
            .ok_or_else(|| self.service.malformed("DescribeCluster"))?;
        let (Some(arn), Some(endpoint), Some(certificate_authority)) = (
            cluster.arn().filter(|a| !a.is_empty()),
            cluster.endpoint().filter(|e| !e.is_empty()),
            cluster
                .certificate_authority()
                .and_then(|c| c.data())
                .filter(|d| !d.is_empty()),
        ) else {
            let status = cluster
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into());
            return Err(crate::error::Failure::aws(format!(
                "cluster `{}` has no API endpoint yet (its status is {}); try again when it is \
                 ACTIVE",
                crate::error::printable(name),
                crate::error::printable(&status)
            )));
        };
        Ok(Cluster {
            arn: arn.to_string(),
            endpoint: endpoint.to_string(),
            certificate_authority: certificate_authority.to_string(),
        })
    }

    /// Every cluster name of the region, page after page.
    pub async fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let output = self
                .client
                .list_clusters()
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| self.service.explain("ListClusters", e))?;
            names.extend(output.clusters().iter().cloned());
            match output.next_token() {
                Some(token) if !token.is_empty() => next = Some(token.to_string()),
                _ => return Ok(names),
            }
        }
    }
}
