//! Where in the AWS console to land: the short service names people type (`s3`, `ddb`, `logs`)
//! and the console page of each, in a region of a partition.

use crate::aws::signin::Partition;
use crate::error::{printable, Failure, Result};

/// A console service: the names it answers to (the first is the one completion shows) and its
/// page, with what follows the region query (a fragment for pages inside another service's).
pub struct Service {
    pub names: &'static [&'static str],
    path: &'static str,
    fragment: &'static str,
    /// What completion says of it.
    pub title: &'static str,
}

const fn service(
    names: &'static [&'static str],
    path: &'static str,
    title: &'static str,
) -> Service {
    Service {
        names,
        path,
        fragment: "",
        title,
    }
}

pub const SERVICES: &[Service] = &[
    service(&["acm"], "acm/home", "Certificate Manager"),
    service(&["apigateway", "apigw"], "apigateway/main", "API Gateway"),
    service(&["athena"], "athena/home", "Athena"),
    service(&["billing"], "billing/home", "Billing and Cost Management"),
    service(
        &["cloudformation", "cfn"],
        "cloudformation/home",
        "CloudFormation",
    ),
    service(&["cloudfront", "cf"], "cloudfront/v4/home", "CloudFront"),
    service(&["cloudtrail", "ct"], "cloudtrail/home", "CloudTrail"),
    service(&["cloudwatch", "cw"], "cloudwatch/home", "CloudWatch"),
    service(
        &["codebuild", "cb"],
        "codesuite/codebuild/home",
        "CodeBuild",
    ),
    service(
        &["codepipeline", "cp"],
        "codesuite/codepipeline/home",
        "CodePipeline",
    ),
    service(&["cognito"], "cognito/v2/home", "Cognito"),
    service(&["config"], "config/home", "Config"),
    service(&["console", "home"], "console/home", "Console Home"),
    service(&["dynamodb", "ddb"], "dynamodbv2/home", "DynamoDB"),
    service(&["ebs"], "ec2/home", "EC2 (volumes)"),
    service(&["ec2"], "ec2/home", "EC2"),
    service(&["ecr"], "ecr/home", "Elastic Container Registry"),
    service(&["ecs"], "ecs/v2/home", "Elastic Container Service"),
    service(&["eks"], "eks/home", "Elastic Kubernetes Service"),
    service(&["elasticache"], "elasticache/home", "ElastiCache"),
    service(
        &["eventbridge", "events", "eb"],
        "events/home",
        "EventBridge",
    ),
    service(&["glue"], "glue/home", "Glue"),
    service(&["guardduty", "gd"], "guardduty/home", "GuardDuty"),
    service(&["iam"], "iam/home", "IAM"),
    service(&["kinesis"], "kinesis/home", "Kinesis"),
    service(&["kms"], "kms/home", "Key Management Service"),
    service(&["lambda"], "lambda/home", "Lambda"),
    Service {
        names: &["logs"],
        path: "cloudwatch/home",
        fragment: "logsV2:",
        title: "CloudWatch Logs",
    },
    service(
        &["organizations", "orgs"],
        "organizations/v2/home",
        "Organizations",
    ),
    service(&["rds"], "rds/home", "RDS"),
    service(&["redshift"], "redshiftv2/home", "Redshift"),
    service(&["route53", "r53"], "route53/v2/home", "Route 53"),
    service(&["s3"], "s3/home", "S3"),
    service(
        &["secretsmanager", "sm", "secrets"],
        "secretsmanager/home",
        "Secrets Manager",
    ),
    service(&["securityhub", "sh"], "securityhub/home", "Security Hub"),
    service(&["sns"], "sns/v3/home", "SNS"),
    service(&["sqs"], "sqs/v3/home", "SQS"),
    service(&["ssm"], "systems-manager/home", "Systems Manager"),
    service(
        &["sso", "identitycenter"],
        "singlesignon/home",
        "IAM Identity Center",
    ),
    service(&["stepfunctions", "sfn"], "states/home", "Step Functions"),
    service(&["vpc"], "vpc/home", "VPC"),
    service(&["waf"], "wafv2/homev2", "WAF"),
];

/// The service `name` names, or a usage failure naming the nearest ones.
pub fn service_named(name: &str) -> Result<&'static Service> {
    let lowered = name.to_ascii_lowercase();
    if let Some(found) = SERVICES
        .iter()
        .find(|s| s.names.contains(&lowered.as_str()))
    {
        return Ok(found);
    }
    let hint = crate::error::nearest_names(
        &lowered,
        SERVICES.iter().flat_map(|s| s.names.iter().copied()),
        "; `rolecall console --help` lists them",
    );
    Err(Failure::usage(format!(
        "`{}` is not a console service rolecall knows{hint} (--destination takes any console URL)",
        printable(name)
    )))
}

/// The console page of `service` (none: the console's home) in `region`.
pub fn destination(service: Option<&Service>, region: &str) -> String {
    let partition = Partition::of_region(region);
    let (path, fragment) = service.map_or(("console/home", ""), |s| (s.path, s.fragment));
    let mut url = url::Url::parse(&format!(
        "https://{region}.{}/{path}",
        partition.console_domain()
    ))
    .unwrap_or_else(|_| {
        url::Url::parse(&format!("https://{}/{path}", partition.console_domain()))
            .expect("a console URL of constants")
    });
    url.query_pairs_mut().append_pair("region", region);
    if !fragment.is_empty() {
        url.set_fragment(Some(fragment));
    }
    url.into()
}

/// A `--destination` the person gave: a console page over https.
pub fn checked_destination(text: &str) -> Result<String> {
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some() => Ok(url.into()),
        _ => Err(Failure::usage(format!(
            "--destination `{}` is not an https URL of a console page",
            printable(text)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_lower_case() {
        let mut names: Vec<&str> = SERVICES
            .iter()
            .flat_map(|s| s.names.iter().copied())
            .collect();
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn destinations_follow_the_service_region_and_partition() {
        let s3 = service_named("S3").unwrap();
        assert_eq!(
            destination(Some(s3), "eu-west-1"),
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination(Some(service_named("logs").unwrap()), "cn-north-1"),
            "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#logsV2:"
        );
        assert_eq!(
            destination(None, "us-gov-west-1"),
            "https://us-gov-west-1.console.amazonaws-us-gov.com/console/home?region=us-gov-west-1"
        );
        assert_eq!(service_named("ddb").unwrap().names[0], "dynamodb");
    }

    #[test]
    fn an_unknown_service_gets_the_nearest_names() {
        let failure = service_named("lamda").err().unwrap();
        assert!(
            failure.message.contains("did you mean lambda?"),
            "{}",
            failure.message
        );
        assert!(checked_destination("javascript:alert(1)").is_err());
        assert!(checked_destination("https://console.aws.amazon.com/ec2/home").is_ok());
    }
}
