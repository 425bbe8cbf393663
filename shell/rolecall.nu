# rolecall shell integration for nushell (0.101 and later). nushell cannot evaluate text at run
# time, so the integration is a file nushell loads at start: put this in config.nu
#   mkdir ($nu.data-dir | path join "vendor/autoload")
#   rolecall init nu | save -f ($nu.data-dir | path join "vendor/autoload/rolecall.nu")
# (config.nu runs before the autoload directory is read, so each start loads what the binary
# printed that same start). Internal names start with __rolecall; the binary is reached as
# `^rolecall`, so a custom command of the same name cannot change what runs.

# The binary prints JSON for nushell: the variables to remove, those to set, and text to print.
# When the binary fails, so does this command (nushell keeps its status in $env.LAST_EXIT_CODE)
# and nothing is applied: a failed assume leaves the scope as it was.
def --env __rolecall_apply [args: list<string>] {
    # Two steps: nushell before 0.114 goes on past a failed external command piped into
    # another, so the binary's failure must end a statement of its own.
    let text = (^rolecall assume --shell nu ...$args)
    let change = ($text | from json)
    hide-env --ignore-errors ...($change.unset? | default [])
    load-env ($change.set? | default {})
    if ($change.print? | is-not-empty) {
        print $change.print
    }
}

# Candidates from the binary (profiles with their descriptions, flags, regions), as fish gets
# them: the words before the cursor, then the word being typed.
def __rolecall_complete [context: string] {
    let words = ($context | split row --regex '\s+')
    let typed = ($words | last)
    let before = ($words | drop 1 | skip 1)
    let lines = (
        with-env {__ROLECALL_COMPLETION_VARIABLE__: fish} {
            ^rolecall -- rolecall assume ...$before $typed | complete
        }
    ).stdout | lines
    {
        options: {sort: false, completion_algorithm: prefix, case_sensitive: true}
        completions: ($lines | each {|line|
            let parts = ($line | split row --number 2 "\t")
            {value: $parts.0, description: ($parts.1? | default "")}
        })
    }
}

# Assume an AWS role in this scope (rolecall). The flags are `rolecall assume`'s, written here by
# the binary, so nushell completes and checks them; each is passed on as given.
def --env __ROLECALL_CMD__ [
    target?: string@__rolecall_complete  # profile name, role ARN, or - for the previous target; none opens a picker
__ROLECALL_NU_FLAGS__
] {
    let args = ([]
__ROLECALL_NU_ARGUMENTS__
        | append (if $target != null { ["--" $target] } else { [] })
    )
    __rolecall_apply $args
}

# Lets `rolecall doctor` tell whether the shell that runs it has the integration loaded.
$env.ROLECALL_SHELL_PID = ($nu.pid | into string)

# rolecall:prompt-begin
# The prompt segment: `[profile 42m] ` before the user's prompt. A pre_prompt hook draws it (a
# hook may keep what it learns in the environment; the prompt closure may not), asking the
# binary only when its text can have changed: at the time the binary named, or when one of its
# inputs changed. The user's PROMPT_COMMAND, closure or text, is kept once and drawn after it.
def --env __rolecall_draw [] {
    if ($env.ROLECALL_PROFILE? | is-empty) {
        $env.__rolecall_segment = ""
        return
    }
    let key = __ROLECALL_PROMPT_KEY__
    let now = ((date now | into int) // 1_000_000_000)
    let until = ($env.__rolecall_drawn_until? | default 0)
    if $key != ($env.__rolecall_drawn_key? | default "") or $now >= $until {
        let drawing = (try { ^rolecall prompt --shell nu e> /dev/null } catch { "" } | lines)
        $env.__rolecall_segment = ($drawing.0? | default "")
        $env.__rolecall_drawn_until = (try { $drawing | get 1 | into int } catch { 0 })
        $env.__rolecall_drawn_key = $key
    }
}

if ($env.__rolecall_original_prompt? | is-empty) {
    $env.__rolecall_original_prompt = ($env.PROMPT_COMMAND? | default {|| "" })
}
$env.PROMPT_COMMAND = {||
    let original = $env.__rolecall_original_prompt
    let drawn = if ($original | describe | str starts-with "closure") { do $original } else { $original }
    let segment = ($env.__rolecall_segment? | default "")
    if ($segment | is-empty) { $drawn } else { $"($segment) ($drawn)" }
}
# Once, however often the file is loaded.
if ($env.__rolecall_draws? | is-empty) {
    $env.config.hooks.pre_prompt = (
        $env.config.hooks.pre_prompt? | default [] | append {|| __rolecall_draw }
    )
    $env.__rolecall_draws = "yes"
}
# rolecall:prompt-end

# rolecall:refresh-begin
# Auto-refresh: before each command line runs, a session about to expire is re-assumed quietly.
# Deciding that costs no process (nushell has the clock). Role ARN targets are left alone
# (re-assuming one would use its own expiring credentials), and a renewal that failed, or gave
# credentials due already, is not retried for the same session.
def __rolecall_refresh_due [] {
    let profile = ($env.ROLECALL_PROFILE? | default "")
    if ($profile | is-empty) or ($profile | str starts-with "arn:") { return false }
    let expires = (try { $env.ROLECALL_EXPIRES | into int } catch { -1 })
    if $expires < 0 or ($env.__rolecall_refresh_failed? | default "") == $env.ROLECALL_EXPIRES {
        return false
    }
    let now = ((date now | into int) // 1_000_000_000)
    $expires - $now < __ROLECALL_REFRESH_SECONDS__
}

def --env __rolecall_refresh [] {
    if not (__rolecall_refresh_due) { return }
    let profile = $env.ROLECALL_PROFILE
    let name = ($profile | str replace --all --regex '[^[:alnum:]_.@%+:/-]' '?')
    let renewed = try { __rolecall_apply ["--no-input" "--quiet" "--" $profile]; true } catch { false }
    if not $renewed {
        $env.__rolecall_refresh_failed = $env.ROLECALL_EXPIRES
        print --stderr $"rolecall: ($name) was not renewed; run __ROLECALL_CMD__ ($name)"
    } else if (__rolecall_refresh_due) {
        # New credentials that are due already count as a failed renewal, or every command
        # would renew them again.
        $env.__rolecall_refresh_failed = $env.ROLECALL_EXPIRES
        print --stderr $"rolecall: ($name) was renewed only briefly and is not renewed again; run __ROLECALL_CMD__ ($name)"
    }
}
if ($env.__rolecall_refreshes? | is-empty) {
    $env.config.hooks.pre_execution = (
        $env.config.hooks.pre_execution? | default [] | append {|| __rolecall_refresh }
    )
    $env.__rolecall_refreshes = "yes"
}
# rolecall:refresh-end
