//! `rolecall eks token` and `rolecall eks kubeconfig`: the flags turned into what `crate::eks`
//! needs; the flow lives there.

use crate::cli::{CredentialFlags, EksCommand, EksKubeconfigArgs, EksTokenArgs};
use crate::eks::{self, kubeconfig, token};
use crate::env::Env;
use crate::error::{printable, Failure, Result};

pub fn run(command: EksCommand) -> Result<()> {
    match command {
        EksCommand::Token(args) => token_command(args),
        EksCommand::Kubeconfig(args) => kubeconfig_command(args),
    }
}

fn token_command(args: EksTokenArgs) -> Result<()> {
    let env = Env::Process;
    eks::check_cluster_name(&args.cluster)?;
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
    let client = crate::aws::eks::Eks::new(&region, &held.credentials)?;
    let clusters = crate::aws::net::block_on(async {
        let names = match &args.cluster {
            Some(name) => vec![name.clone()],
            None => client.list().await?,
        };
        let mut clusters = Vec::new();
        for name in names {
            eks::check_cluster_name(&name)?;
            clusters.push((client.describe(&name).await?, name));
        }
        Ok(clusters)
    })?;
    if clusters.is_empty() {
        eprintln!("rolecall: {region} has no EKS clusters; nothing was written");
        return Ok(());
    }
    let command = std::env::current_exe()
        .map_err(|e| Failure::local(format!("cannot tell where rolecall is: {e}")))?;
    let command = command.to_str().ok_or_else(|| {
        Failure::local("rolecall's own path is not text; kubectl could not run it")
    })?;
    let entries: Vec<kubeconfig::Entry> = clusters
        .iter()
        .map(|(cluster, name)| kubeconfig::Entry {
            cluster,
            alias: args.alias.as_deref(),
            command,
            args: token_args(name, args.target.as_deref(), &region, &args.flags),
        })
        .collect();
    let shown = printable(&path.to_string_lossy());
    match kubeconfig::write(&path, &entries)? {
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

/// `eks token`'s arguments for one cluster: the same target, reached the same way.
fn token_args(
    cluster: &str,
    target: Option<&str>,
    region: &str,
    flags: &CredentialFlags,
) -> Vec<String> {
    let mut args: Vec<String> = vec!["eks".into(), "token".into()];
    args.extend(target.map(String::from));
    args.extend([
        "--cluster".into(),
        cluster.into(),
        "-r".into(),
        region.into(),
    ]);
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
