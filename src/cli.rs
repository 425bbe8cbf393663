//! The command line, and nothing else: kept apart so completions can be generated from it
//! without touching the engine. It names the shells (`shell::Shell`) and the completion
//! candidates (`complete`); no module below `cmd` knows it.

use crate::shell::Shell;
use clap::{Args, Parser, Subcommand};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter};
use std::ffi::OsString;

/// The variable that makes the binary answer Tab completion instead of running (clap_complete's
/// dynamic engine); the integration and `completions/` use the same name.
pub const COMPLETION_VARIABLE: &str = "ROLECALL_COMPLETE";

#[derive(Debug, Parser)]
#[command(
    name = "rolecall",
    version,
    about = "AWS temporary credentials in your shell: assume a role in one word",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shell integration: the assume function, its completion, the prompt segment
    Init(InitArgs),
    /// Get credentials for TARGET and print shell code (or JSON) that sets them
    Assume(AssumeArgs),
    /// Run one command with the credentials in its environment, leaving the shell alone
    Exec(ExecArgs),
    /// Open the AWS console in the browser, signed in as TARGET (or as this shell's credentials)
    Console(ConsoleArgs),
    /// Print credential_process JSON (Version 1) so any AWS SDK or tool can use a rolecall profile
    #[command(name = "credential-process")]
    CredentialProcess(CredentialProcessArgs),
    /// What this shell holds: profile, role, account, region, expiry; exit 1 without a valid session
    Status(StatusArgs),
    /// One short line for the prompt, from the environment alone
    Prompt(PromptArgs),
    /// Check this shell, the config, the cache (and with --online, STS) and say what to fix
    Doctor(DoctorArgs),
    /// List profile names, one a line
    Profiles(ProfilesArgs),
    /// Print the completion script for the rolecall binary itself
    Completions(CompletionsArgs),
    /// IAM Identity Center: log in and out, keeping the token where the AWS CLI keeps it
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Long-term access keys in the OS keyring instead of ~/.aws/credentials, and their rotation
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Kubernetes on EKS: tokens for kubectl from the session, and the kubeconfig entries that ask for them
    #[command(subcommand)]
    Eks(EksCommand),
    /// Print the man page, rolecall(1), as roff (what man/rolecall.1 holds)
    #[command(hide = true)]
    Manpage,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a profile's access key in the keyring (asked on the terminal, never echoed)
    Add(KeysAddArgs),
    /// Move keys from the credentials file into the keyring, leaving a credential_process line
    Import(KeysImportArgs),
    /// The keyring's profiles: key ID (last 4 characters) and age; never a secret
    List,
    /// Take a profile's key out of the keyring and its line out of the credentials file
    Remove(KeysProfileArgs),
    /// Replace a profile's key with a new one through IAM, then delete the old one
    Rotate(KeysRotateArgs),
    /// Print a profile's key as credential_process JSON: what the line other AWS tools run calls
    #[command(name = "credential-process")]
    CredentialProcess(KeysProfileArgs),
}

#[derive(Debug, Args)]
pub struct KeysProfileArgs {
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct KeysAddArgs {
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub profile: String,
    /// Read the access key ID and the secret from standard input, one a line (for scripts)
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct KeysImportArgs {
    #[arg(
        value_name = "PROFILE",
        required_unless_present = "all",
        add = ArgValueCompleter::new(crate::complete::profiles)
    )]
    pub profile: Option<String>,
    /// Every profile with keys in the credentials file
    #[arg(long, conflicts_with = "profile")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub profile: String,
    /// The current code of the MFA device, when the profile has mfa_serial
    #[arg(long, value_name = "CODE")]
    pub mfa_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EksCommand {
    /// Print an ExecCredential with a token for the cluster, signed here with the session (kubectl runs this)
    Token(EksTokenArgs),
    /// Write the cluster, user and context for kubectl into the kubeconfig, the user running `eks token`
    Kubeconfig(EksKubeconfigArgs),
}

#[derive(Debug, Args)]
pub struct EksTokenArgs {
    /// Profile name or role ARN; none: the credentials in the environment
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: Option<String>,
    /// The EKS cluster's name
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub flags: CredentialFlags,
}

#[derive(Debug, Args)]
pub struct EksKubeconfigArgs {
    /// Profile name or role ARN, for DescribeCluster and in the token command; none: the
    /// credentials in the environment
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: Option<String>,
    /// The EKS cluster's name
    #[arg(long, value_name = "NAME", required_unless_present = "all")]
    pub cluster: Option<String>,
    /// Every cluster of the region (ListClusters)
    #[arg(long, conflicts_with_all = ["cluster", "alias"])]
    pub all: bool,
    /// The context's name (default: the cluster's ARN, as `aws eks update-kubeconfig` names it)
    #[arg(long, value_name = "CONTEXT")]
    pub alias: Option<String>,
    /// The file to write (default: the first file of $KUBECONFIG, else ~/.kube/config)
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub flags: CredentialFlags,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Log in to IAM Identity Center (browser with PKCE, or a device code) and keep the token
    /// where the AWS CLI and SDKs read and refresh it
    Login(SsoLoginArgs),
    /// End a login: the portal's Logout, then its token and the role credentials cached from it
    Logout(SsoLogoutArgs),
    /// Write a profile for every account and role the login is granted, in a marked block of
    /// the config file (the rest of the file stays as it is)
    Populate(SsoPopulateArgs),
}

#[derive(Debug, Args)]
pub struct SsoPopulateArgs {
    /// An Identity Center start URL (https://NAME.awsapps.com/start): the sso-session that has
    /// it, written first when the config has none
    #[arg(value_name = "START_URL", conflicts_with = "all")]
    pub start_url: Option<String>,
    /// The [sso-session NAME] whose grants to write (default: the config's only sso-session);
    /// with a start URL, the name of its new session
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
    /// The Identity Center's region, for a start URL no sso-session has yet
    #[arg(long, value_name = "REGION", requires = "start_url", add = ArgValueCandidates::new(crate::complete::regions))]
    pub sso_region: Option<String>,
    /// Every [sso-session] of the config, one after the other
    #[arg(long, conflicts_with = "sso_session")]
    pub all: bool,
    /// When a login is needed: log in with a device code instead of a redirect
    #[arg(long)]
    pub device_code: bool,
    /// When a login is needed: print the page to open, and open no browser
    #[arg(long)]
    pub no_browser: bool,
    /// Profile names: a template over {account_name}, {account_id}, {role_name} and {session}
    #[arg(long, value_name = "TEMPLATE", default_value = crate::sso::populate::DEFAULT_TEMPLATE)]
    pub name: String,
    /// The region each profile gets (default: the sso-session's sso_region)
    #[arg(short = 'r', long, value_name = "REGION", add = ArgValueCandidates::new(crate::complete::regions))]
    pub region: Option<String>,
    /// Also remove the generated profiles the login is no longer granted
    #[arg(long)]
    pub prune: bool,
    /// Print what would be added, changed and removed, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Which login: a profile's, or an sso-session's.
#[derive(Debug, Args)]
pub struct SsoWhich {
    /// The profile whose login it is (default: $AWS_PROFILE, else the only sso-session)
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub profile: Option<String>,
    /// The same, as the AWS CLI spells it
    #[arg(long = "profile", value_name = "PROFILE", conflicts_with = "profile")]
    pub profile_flag: Option<String>,
    /// An [sso-session NAME] of the config instead of a profile
    #[arg(long, value_name = "NAME", conflicts_with_all = ["profile", "profile_flag"])]
    pub sso_session: Option<String>,
}

#[derive(Debug, Args)]
pub struct SsoLoginArgs {
    /// The profile whose login it is (default: $AWS_PROFILE, else the only sso-session), or an
    /// Identity Center start URL (https://…), whose sso-session is written first when the
    /// config has none
    #[arg(value_name = "PROFILE|START_URL", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: Option<String>,
    /// The profile, as the AWS CLI spells it
    #[arg(long = "profile", value_name = "PROFILE", conflicts_with = "target")]
    pub profile_flag: Option<String>,
    /// An [sso-session NAME] of the config instead of a profile; with a start URL, the name of
    /// its new session
    #[arg(long, value_name = "NAME", conflicts_with = "profile_flag")]
    pub sso_session: Option<String>,
    /// The Identity Center's region, for a start URL no sso-session has yet
    #[arg(long, value_name = "REGION", requires = "target", add = ArgValueCandidates::new(crate::complete::regions))]
    pub sso_region: Option<String>,
    /// Log in with a device code (a verification page and a code) instead of a redirect
    #[arg(long)]
    pub device_code: bool,
    /// Print the page to open, and open no browser
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct SsoLogoutArgs {
    #[command(flatten)]
    pub which: SsoWhich,
    /// End every login the config names (its sso-sessions and legacy SSO profiles)
    #[arg(long, conflicts_with_all = ["profile", "profile_flag", "sso_session"])]
    pub all: bool,
}

/// The flags shared by every command that obtains credentials.
#[derive(Debug, Clone, Default, Args)]
pub struct CredentialFlags {
    /// Session duration: 15m, 1h, 1h30m or seconds (default: the profile's duration_seconds, else 1h); for the console, also the console session's when AWS allows one
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Region to put in the environment and to call STS in (for the console: the console's region)
    #[arg(short = 'r', long, value_name = "REGION", add = ArgValueCandidates::new(crate::complete::regions))]
    pub region: Option<String>,
    /// The current code of the MFA device, instead of mfa_process or a prompt
    #[arg(long, value_name = "CODE")]
    pub mfa_token: Option<String>,
    /// Role session name (default: the profile's role_session_name, else your user name)
    #[arg(long, value_name = "NAME")]
    pub session_name: Option<String>,
    /// External ID to pass to the target role
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Profile whose credentials assume a role ARN target (default: the current credentials)
    #[arg(long, value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub source_profile: Option<String>,
    /// Assume the role with an OIDC token instead (no stored key): github (the GitHub Actions job's), file:PATH or env:VAR
    #[arg(long, value_name = "SOURCE", conflicts_with = "source_profile")]
    pub web_identity: Option<String>,
    /// The audience to ask GitHub's token for (default: sts.amazonaws.com)
    #[arg(long, value_name = "AUDIENCE", requires = "web_identity")]
    pub audience: Option<String>,
    /// Neither read nor write the credential cache
    #[arg(long, conflicts_with = "refresh")]
    pub no_cache: bool,
    /// Ignore cached credentials and fetch new ones (the cache is updated)
    #[arg(long)]
    pub refresh: bool,
    /// Ask nobody: fail when an MFA code would be needed and no mfa_process gives it
    #[arg(long)]
    pub no_input: bool,
}

#[derive(Debug, Args)]
pub struct AssumeArgs {
    /// Profile name, role ARN, or - for the previous target of this shell; none opens a picker
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: Option<String>,
    /// Print code for this shell (default: from $SHELL)
    #[arg(long, value_enum, conflicts_with = "json")]
    pub shell: Option<Shell>,
    /// Print the variables as a JSON object instead of shell code
    #[arg(long)]
    pub json: bool,
    /// Print code that removes every rolecall variable from the shell
    #[arg(long, conflicts_with_all = ["target", "json"])]
    pub unset: bool,
    /// Print no summary line on success (errors still go to stderr)
    #[arg(short, long)]
    pub quiet: bool,
    /// In a GitHub Actions step: append the variables to the file $GITHUB_ENV names, for later
    /// steps, and print ::add-mask:: lines for the secrets instead of shell code
    #[arg(long, conflicts_with_all = ["shell", "json", "unset", "console"])]
    pub github_env: bool,
    /// Open the AWS console signed in as TARGET instead (as `rolecall console`); the shell keeps
    /// what it holds
    #[arg(short = 'c', long, conflicts_with_all = ["unset", "json"])]
    pub console: bool,
    #[command(flatten)]
    pub console_flags: ConsoleFlags,
    #[command(flatten)]
    pub flags: CredentialFlags,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Profile name, role ARN, or - for the previous target; none: the credentials this shell holds
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: Option<String>,
    #[command(flatten)]
    pub console: ConsoleFlags,
    #[command(flatten)]
    pub flags: CredentialFlags,
}

/// Where the console lands and how it is opened: `rolecall console` and `assume -c`.
#[derive(Debug, Clone, Default, Args)]
pub struct ConsoleFlags {
    /// The console page of this service: s3, ec2, iam, lambda, logs, ddb, cfn, … (default: the console's home)
    #[arg(short = 's', long, value_name = "SERVICE", add = ArgValueCandidates::new(crate::complete::services))]
    pub service: Option<String>,
    /// Any console page (an https URL) to land on instead of a service's
    #[arg(long, value_name = "URL", conflicts_with = "service")]
    pub destination: Option<String>,
    /// Print the sign-in URL instead of opening a browser (it signs anyone in for 15 minutes)
    #[arg(long)]
    pub url: bool,
    /// Sign the browser out of the account it is in first, so switching needs no private window
    #[arg(long)]
    pub logout_first: bool,
}

impl ConsoleFlags {
    pub fn any(&self) -> bool {
        self.service.is_some() || self.destination.is_some() || self.url || self.logout_first
    }
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Profile name or role ARN
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: String,
    /// Give the command a loopback credentials endpoint that renews them, instead of fixed keys
    /// (for jobs that outlive a session)
    #[arg(long)]
    pub server: bool,
    #[command(flatten)]
    pub flags: CredentialFlags,
    /// The command to run, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// Profile name or role ARN
    #[arg(value_name = "TARGET", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub target: String,
    #[command(flatten)]
    pub flags: CredentialFlags,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(value_enum)]
    pub shell: Shell,
    /// Name of the function that assumes (and of its completion)
    #[arg(long, value_name = "NAME", default_value = "assume")]
    pub cmd: String,
    /// Leave the prompt alone (for starship, p10k, tide: place `rolecall prompt` yourself)
    #[arg(long)]
    pub no_prompt: bool,
    /// Re-assume quietly before a command runs when the session has under 5 minutes left
    #[arg(long)]
    pub auto_refresh: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Also ask STS who these credentials belong to (GetCallerIdentity)
    #[arg(long)]
    pub verify: bool,
    /// Print nothing; only the exit status tells
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also check this profile's chain (default: every profile)
    #[arg(value_name = "PROFILE", add = ArgValueCompleter::new(crate::complete::profiles))]
    pub profile: Option<String>,
    /// Ask STS who the shell's credentials belong to, and how far off the local clock is
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// Template with {profile}, {region}, {account}, {role}, {left} and {expires}
    #[arg(long, value_name = "F", default_value = "[{profile} {left}]")]
    pub format: String,
    /// Wrap colours in this shell's prompt markers (used by the integration)
    #[arg(long, value_enum)]
    pub shell: Option<Shell>,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Also print each profile's role ARN and description, tab-separated
    #[arg(long, short = 'l')]
    pub long: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}
