//! `rolecall eks token` and `rolecall eks kubeconfig`: the flags turned into what `crate::eks`
//! needs; the flow lives there.

use crate::cli::{CredentialFlags, EksCommand, EksKubeconfigArgs, EksTokenArgs};
use crate::eks::{self, kubeconfig, token};
use crate::env::Env;
use crate::error::{printable, Failure, Result};
use std::io::IsTerminal;

pub fn run(command: EksCommand) -> Result<()> {
    match command {
        EksCommand::Token(args) => token_command(args),
        EksCommand::Kubeconfig(args) => kubeconfig_command(args),
    }
}

fn token_command(args: EksTokenArgs) -> Result<()> {
    let env = Env::Process;
    eks::check_cluster_name(&args.cluster)?;
    if std::io::stdout().is_terminal() {
        return Err(Failure::usage(format!(
            "this prints a token for kubectl, which lets anyone who holds it into `{0}` for 15 \
             minutes, not for a terminal: `rolecall eks kubeconfig … --cluster {0}` writes the \
             kubeconfig entry that runs it (pipe it to see it anyway)",
            args.cluster
        )));
    }
    let info = token::ExecInfo::read(&env)?;
    let mut flags = args.flags;
    // Under kubectl without a terminal to answer on, nobody is asked anything.
    if info.interactive == Some(false) {
        flags.no_input = true;
    }
    let held = held(args.target.as_deref(), &flags, &env).map_err(|mut failure| {
        if info.interactive == Some(false) && failure.message.contains("--no-input") {
            failure.message.push_str(
                "\n  kubectl gave nobody a terminal to answer on: assume the profile in a shell \
                 first, and kubectl takes its cached session",
            );
        }
        failure
    })?;
    let region = eks::region(flags.region.as_deref(), &held, &env)?;
    let token = token::sign(
        &held.credentials,
        &region,
        &args.cluster,
        std::time::SystemTime::now(),
    )?;
    super::emit(&info.credential(&token))
}

fn kubeconfig_command(args: EksKubeconfigArgs) -> Result<()> {
    let env = Env::Process;
    if let Some(cluster) = &args.cluster {
        eks::check_cluster_name(cluster)?;
    }
    if args.target.as_deref() == Some("-") {
        return Err(Failure::usage(
            "name the profile or role: `-` is this shell's previous target, which kubectl does \
             not know",
        ));
    }
    if let Some(region) = &args.flags.region {
        eks::check_region(region)?;
    }
    let path = match args.kubeconfig {
        Some(path) => path,
        None => kubeconfig::default_path(&env)?,
    };
    kubeconfig::check(&path)?;
    let held = held(args.target.as_deref(), &args.flags, &env)?;
    let region = eks::region(args.flags.region.as_deref(), &held, &env)?;
    let outcome = kubeconfig::update(&kubeconfig::Update {
        path: &path,
        cluster: args.cluster.as_deref(),
        alias: args.alias.as_deref(),
        region: &region,
        credentials: &held.credentials,
        target_args: target_args(args.target.as_deref(), &args.flags),
    })?;
    let shown = printable(&path.to_string_lossy());
    match outcome {
        kubeconfig::Outcome::NoClusters => {
            eprintln!("rolecall: {region} has no EKS clusters; nothing was written")
        }
        kubeconfig::Outcome::Unchanged => {
            eprintln!("rolecall: {shown} already has these entries; nothing was written")
        }
        kubeconfig::Outcome::Written { contexts } => {
            for context in contexts {
                eprintln!("rolecall: context {} in {shown}", printable(&context));
            }
        }
    }
    Ok(())
}

/// The credentials a TARGET resolves to, else the environment's.
fn held(target: Option<&str>, flags: &CredentialFlags, env: &Env) -> Result<eks::Held> {
    match target {
        Some(target) => {
            let request = super::request(target, flags, env)?;
            eks::held(Some(&request), env)
        }
        None => {
            super::refuse_target_flags(
                flags,
                "the token is signed with the credentials in the environment, as they are",
            )?;
            eks::held(None, env)
        }
    }
}

/// What `eks token` needs besides the cluster and region to reach the same session: the TARGET
/// and the flags that choose how its credentials are fetched.
fn target_args(target: Option<&str>, flags: &CredentialFlags) -> Vec<String> {
    let mut args: Vec<String> = target.map(String::from).into_iter().collect();
    for (flag, value) in [
        ("--source-profile", &flags.source_profile),
        ("--session-name", &flags.session_name),
        ("--external-id", &flags.external_id),
        ("--duration", &flags.duration),
    ] {
        if let Some(value) = value {
            args.extend([flag.to_string(), value.clone()]);
        }
    }
    args
}
