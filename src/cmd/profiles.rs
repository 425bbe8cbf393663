//! `rolecall profiles`: the profile names, for people, completion and the picker. Read through
//! the fast index: no full parse, no runtime, no SDK.

use crate::cli::ProfilesArgs;
use crate::env::Env;
use crate::error::{printable_cow, Result};
use crate::profile::index::ProfileIndex;
use crate::profile::Profiles;

pub fn run(args: ProfilesArgs) -> Result<()> {
    let index = ProfileIndex::load(&Env::Process)?;
    if index.confused {
        // A malformed file: the full parser says where.
        Profiles::from_files(&index.files)?;
    }
    let listed = index.list();
    let mut output = String::with_capacity(listed.len() * if args.long { 96 } else { 24 });
    for profile in listed {
        output.push_str(&printable_cow(profile.name));
        if args.long {
            for value in [profile.role_arn, profile.description] {
                output.push('\t');
                output.push_str(&printable_cow(value.unwrap_or("")));
            }
        }
        output.push('\n');
    }
    super::emit(&output)
}
