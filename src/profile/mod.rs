//! Profiles: what the config and credentials files say, and how a target resolves into the
//! chain of roles and the base credentials it starts from. Nothing here knows the command line,
//! a shell or the network; the environment comes in as a value.
//!
//! - `files`: finding, reading and parsing the two files (aws-config's parser), errors with
//!   file and line
//! - `index`: the fast index for listing and for parsing only a chain's sections
//! - `set`: the parsed profiles, looked up by name
//! - `chain`: target → hops → base
//! - `validate`: the values STS would refuse, caught first
//! - `keyring_line`: the `credential_process` line of a profile whose key is in the OS keyring
//! - `token_source`: where a web identity token is read (`--web-identity`'s forms)
//! - `block`: the marked blocks of generated profiles in the config file, and rewriting it

pub mod block;
pub mod chain;
pub mod files;
pub mod index;
pub mod keyring_line;
pub mod set;
pub mod token_source;
pub mod validate;

use crate::env::Env;
use crate::error::Result;
pub use chain::{Base, Hop, Overrides, ProfileChain, ENVIRONMENT_KEYS_MISSING};
pub use set::{Profiles, SsoLogin};
pub use token_source::TokenSource;

/// The chain `target` resolves to. Only the sections its chain can touch are parsed when the
/// index can tell which (a config of thousands of profiles costs milliseconds, not tens); any
/// failure there is explained by the whole files instead, so errors and edge cases are always
/// what a full parse says.
pub fn resolve(env: &Env, target: &str, overrides: &Overrides) -> Result<ProfileChain> {
    let aws_profile = env.get("AWS_PROFILE").unwrap_or_default();
    let mut targets = vec![target, aws_profile.as_str()];
    targets.extend(overrides.source_profile.as_deref());
    let index = index::ProfileIndex::build(files::config_files(env)?);
    let from_part = index
        .subset_for(&targets)
        .and_then(|part| files::parse(&part).ok())
        .and_then(|set| Profiles::from_set(set).chain(env, target, overrides).ok());
    match from_part {
        Some(chain) => Ok(chain),
        None => Profiles::from_files(&index.files)?.chain(env, target, overrides),
    }
}
