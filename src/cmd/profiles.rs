//! `rolecall profiles`: the profile names, for people, completion and the picker. Read through
//! the fast index: no full parse, no runtime, no SDK.

use crate::cli::ProfilesArgs;
use crate::env::Env;
use crate::error::{printable, Result};
use crate::profile::index::ProfileIndex;
use crate::profile::Profiles;

pub fn run(args: ProfilesArgs) -> Result<()> {
    let index = ProfileIndex::load(&Env::Process)?;
    if index.confused {
        // A malformed file: the full parser says where.
        Profiles::from_files(&index.files)?;
    }
    let mut output = String::new();
    for profile in index.list() {
        output.push_str(&printable(&profile.name));
        if args.long {
            for value in [&profile.role_arn, &profile.description] {
                output.push('\t');
                output.push_str(&printable(value.as_deref().unwrap_or("")));
            }
        }
        output.push('\n');
    }
    super::emit(&output)
}
