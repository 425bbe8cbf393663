//! Candidates for Tab completion. clap_complete's dynamic engine calls these when the shell asks
//! (`COMPLETE=<shell> rolecall -- …`); they read the config files and nothing else: no runtime,
//! no SDK client.

use clap::builder::StyledStr;
use clap_complete::engine::CompletionCandidate;
use std::ffi::OsStr;

/// Profile names starting with the word being completed, each with its `rolecall_description`
/// (else its role) for zsh and fish. The prefix is matched here, before any candidate is built,
/// rather than by clap after: a generated config holds tens of thousands of profiles, and
/// building a candidate for each was most of the time a Tab took.
pub fn profiles(current: &OsStr) -> Vec<CompletionCandidate> {
    let Ok(index) = crate::profile::index::ProfileIndex::load(&crate::env::Env::Process) else {
        return Vec::new();
    };
    // What clap compares its candidates with, so the same ones are offered.
    let typed = current.to_string_lossy();
    // clap formats the argument's usage (`[TARGET]`) into a tag for each candidate without one,
    // which cost more than building the candidates. Tags only group candidates (profiles before
    // options), so one tag of their own, made once, keeps the order clap's would give.
    let tag: StyledStr = "profiles".into();
    index
        .list_where(|name| crate::error::printable_cow(name).starts_with(typed.as_ref()))
        .into_iter()
        .map(|profile| {
            let help = profile
                .description
                .or(profile.role_arn)
                .map(|text| crate::error::printable(text).into());
            CompletionCandidate::new(crate::error::printable(profile.name))
                .help(help)
                .tag(Some(tag.clone()))
        })
        .collect()
}

/// AWS's public regions.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The console's service names, each with its title.
pub fn services() -> Vec<CompletionCandidate> {
    crate::console::SERVICES
        .iter()
        .flat_map(|service| {
            service
                .names
                .iter()
                .map(|name| CompletionCandidate::new(name).help(Some(service.title.into())))
        })
        .collect()
}

pub fn regions() -> Vec<CompletionCandidate> {
    REGIONS.iter().map(CompletionCandidate::new).collect()
}
