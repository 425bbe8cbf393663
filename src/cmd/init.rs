//! `rolecall init <shell>`: prints the shell integration (see `shell::init`).

use crate::cli::InitArgs;
use crate::error::{printable, Failure, Result};
use crate::shell::init::{is_usable_function_name, Integration};

pub fn run(args: InitArgs) -> Result<()> {
    if !is_usable_function_name(&args.cmd) {
        return Err(Failure::usage(format!(
            "`{}` cannot name the function: use letters, digits, _ and -, and no name the \
             shell or rolecall already uses",
            printable(&args.cmd)
        )));
    }
    super::emit(&args.shell.integration(&Integration {
        function: &args.cmd,
        prompt: !args.no_prompt,
        auto_refresh: args.auto_refresh,
        completion_variable: crate::cli::COMPLETION_VARIABLE,
        // The cache's own threshold, so a renewal never gets the same credentials back.
        refresh_seconds: crate::cache::MINIMUM_SECONDS_LEFT,
        prompt_inputs: &super::prompt::inputs(),
    }))
}
