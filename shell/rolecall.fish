# rolecall shell integration for fish. Load it from ~/.config/fish/config.fish with:
#   rolecall init fish | source
# Internal names start with __rolecall_; the binary is reached through `command`, so functions
# or abbreviations of the same name cannot change what runs.

# Runs the binary, and sources what it printed only when it succeeded: a failed assume leaves
# the shell exactly as it was. The binary's exit status is returned.
function __rolecall_assume
    set -l __rolecall_out (command rolecall assume --shell fish $argv)
    set -l __rolecall_status $status
    if test $__rolecall_status -eq 0
        string join \n -- $__rolecall_out | source
        # A universal profile variable is every fish's, so assume leaves it in place; beside
        # the keys, the AWS SDK for JavaScript would sign with that profile instead.
        for __rolecall_name in AWS_PROFILE AWS_DEFAULT_PROFILE
            if set -q -U $__rolecall_name; and set -q AWS_ACCESS_KEY_ID
                echo "rolecall: warning: the universal $__rolecall_name is exported beside the keys, and the AWS SDK for JavaScript signs with that profile instead; erase it with `set -e -U $__rolecall_name`" >&2
            end
        end
    end
    return $__rolecall_status
end

function __ROLECALL_CMD__ --description 'Assume an AWS role in this shell (rolecall)'
    __rolecall_assume $argv
end

# Lets `rolecall doctor` tell whether the shell that runs it has the integration loaded.
set -gx ROLECALL_SHELL_PID $fish_pid

# Completion for the function and the binary: the binary lists the candidates with their
# descriptions; the function's words are completed as `rolecall assume …`.
function __rolecall_complete
    set -l __rolecall_words (commandline --current-process --tokenize --cut-at-cursor)
    if test "$__rolecall_words[1]" != rolecall
        set __rolecall_words rolecall assume $__rolecall_words[2..-1]
    end
    __ROLECALL_COMPLETION_VARIABLE__=fish command rolecall -- $__rolecall_words (commandline --current-token) 2>/dev/null
end
complete --erase --command rolecall
complete --erase --command __ROLECALL_CMD__
complete --keep-order --exclusive --command rolecall --arguments '(__rolecall_complete)'
complete --keep-order --exclusive --command __ROLECALL_CMD__ --arguments '(__rolecall_complete)'

function __rolecall_return --description 'Sets $status for the next command'
    return $argv[1]
end

# rolecall:prompt-begin
# The prompt segment: `[profile 42m] ` before the user's prompt. The original fish_prompt is kept
# once (loading twice wraps nothing twice) and sees the same $status and $pipestatus it would
# have seen. The binary draws the segment while a session is active, and says on a second line
# when its text next changes; it is asked again only then, or when one of its inputs changed.
function __rolecall_segment
    set -l __rolecall_key __ROLECALL_PROMPT_KEY__
    # Without fish 3.5's `path` there is no clock without a process: draw every time.
    set -l __rolecall_now 0
    type --query path; and set __rolecall_now (math (path mtime /) + (path mtime --relative /))
    if test "$__rolecall_key" != "$__rolecall_drawn_key"; or test $__rolecall_now -eq 0; or test $__rolecall_now -ge "0$__rolecall_drawn_until"
        set -l __rolecall_drawing (command rolecall prompt --shell fish 2>/dev/null)
        set -g __rolecall_drawn $__rolecall_drawing[1]
        set -g __rolecall_drawn_until $__rolecall_drawing[2]
        set -g __rolecall_drawn_key $__rolecall_key
        string match --quiet --regex '^[0-9]+$' -- "$__rolecall_drawn_until"; or set -g __rolecall_drawn_until 0
    end
    test -n "$__rolecall_drawn"; and echo -n "$__rolecall_drawn "
end

if not functions --query __rolecall_original_fish_prompt
    if functions --query fish_prompt
        functions --copy fish_prompt __rolecall_original_fish_prompt
    else
        function __rolecall_original_fish_prompt
            echo -n '> '
        end
    end
    function fish_prompt
        # One `set`, so both are read before anything changes them.
        set -l __rolecall_statuses $status $pipestatus
        if test -n "$ROLECALL_PROFILE"
            __rolecall_segment
        end
        # The user's prompt sees the $status and $pipestatus it would have seen: a pipeline of
        # as many stages, each ending with its status, is the only way to set $pipestatus (and
        # `not` before it, when $status was inverted). Longer pipelines keep $status alone.
        set -l __rolecall_pipe $__rolecall_statuses[2..-1]
        set -l __rolecall_not
        test "$__rolecall_statuses[1]" = "$__rolecall_pipe[-1]"; or set __rolecall_not not
        switch "$__rolecall_not"(count $__rolecall_pipe)
            case 2
                __rolecall_return $__rolecall_pipe[1] | __rolecall_return $__rolecall_pipe[2]
            case 3
                __rolecall_return $__rolecall_pipe[1] | __rolecall_return $__rolecall_pipe[2] | __rolecall_return $__rolecall_pipe[3]
            case 4
                __rolecall_return $__rolecall_pipe[1] | __rolecall_return $__rolecall_pipe[2] | __rolecall_return $__rolecall_pipe[3] | __rolecall_return $__rolecall_pipe[4]
            case not1
                not __rolecall_return $__rolecall_pipe[1]
            case not2
                not __rolecall_return $__rolecall_pipe[1] | __rolecall_return $__rolecall_pipe[2]
            case not3
                not __rolecall_return $__rolecall_pipe[1] | __rolecall_return $__rolecall_pipe[2] | __rolecall_return $__rolecall_pipe[3]
            case '*'
                __rolecall_return $__rolecall_statuses[1]
        end
        __rolecall_original_fish_prompt
    end
end
# rolecall:prompt-end

# rolecall:refresh-begin
# Auto-refresh: before each command line runs, a session about to expire is re-assumed
# quietly. Deciding that costs no process: a file's mtime plus its age is the time now (fish
# 3.5+). Role ARN targets are left alone (re-assuming one would use its own expiring
# credentials), and a renewal that failed, or gave credentials due already, is not retried for
# the same session.
function __rolecall_refresh_due
    type --query path; or return 1
    test -n "$ROLECALL_PROFILE"; or return 1
    string match --quiet 'arn:*' -- $ROLECALL_PROFILE; and return 1
    string match --quiet --regex '^[0-9]+$' -- "$ROLECALL_EXPIRES"; or return 1
    test "$ROLECALL_EXPIRES" != "$__rolecall_refresh_failed"; or return 1
    set -l __rolecall_now (math (path mtime /) + (path mtime --relative /))
    test (math $ROLECALL_EXPIRES - $__rolecall_now) -lt __ROLECALL_REFRESH_SECONDS__
end

function __rolecall_preexec --on-event fish_preexec
    __rolecall_refresh_due; or return 0
    set -l __rolecall_out (command rolecall assume --shell fish --no-input --quiet -- $ROLECALL_PROFILE)
    if test $status -eq 0
        string join \n -- $__rolecall_out | source
        # New credentials that are due already count as a failed renewal, or every command
        # would renew them again.
        __rolecall_refresh_due; or return 0
        set -g __rolecall_refresh_failed $ROLECALL_EXPIRES
        set -l __rolecall_name (string replace --all --regex '[^[:alnum:]_.@%+:/-]' '?' -- $ROLECALL_PROFILE)
        echo "rolecall: $__rolecall_name was renewed only briefly and is not renewed again; run __ROLECALL_CMD__ $__rolecall_name" >&2
    else
        set -g __rolecall_refresh_failed $ROLECALL_EXPIRES
        set -l __rolecall_name (string replace --all --regex '[^[:alnum:]_.@%+:/-]' '?' -- $ROLECALL_PROFILE)
        echo "rolecall: $__rolecall_name was not renewed; run __ROLECALL_CMD__ $__rolecall_name" >&2
    end
end
# rolecall:refresh-end
