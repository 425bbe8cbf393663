# shellcheck shell=bash
# (zsh has no shellcheck dialect; this file keeps to syntax both shells read alike.)
# rolecall shell integration for zsh. Load it from ~/.zshrc, after compinit, with:
#   eval "$(rolecall init zsh)"
# Internal names start with __rolecall_; builtins are reached through \builtin and the binary
# through \command, so aliases cannot change what runs.

# Runs the binary, and evals what it printed only when it succeeded: a failed assume leaves the
# shell exactly as it was. The binary's exit status is returned.
__rolecall_assume() {
    # Ctrl-C at the MFA prompt or the picker ends the binary with 130; the function must not be
    # aborted with it (zsh would then report 1), so the shell treats the signal as handled here.
    \builtin setopt local_options local_traps
    # shellcheck disable=SC2317  # zsh calls TRAPINT itself
    TRAPINT() { \builtin return 0; }
    \builtin local __rolecall_out
    \builtin local -i __rolecall_status=0
    __rolecall_out=$(\command rolecall assume --shell zsh "$@") || __rolecall_status=$?
    if (( __rolecall_status == 0 )); then
        \builtin eval -- "$__rolecall_out"
    fi
    \builtin return "$__rolecall_status"
}

# An alias of the same name (Granted's `assume`, say) would be expanded into the definition.
\builtin unalias __ROLECALL_CMD__ >/dev/null 2>&1 || \builtin true
function __ROLECALL_CMD__ {
    __rolecall_assume "$@"
}

# Lets `rolecall doctor` tell whether the shell that runs it has the integration loaded.
# shellcheck disable=SC2034
\builtin export ROLECALL_SHELL_PID="$$"

# Completion for the function and the binary: the binary lists the candidates as value:description
# pairs; the function's words are completed as `rolecall assume …`.
__rolecall_complete() {
    \builtin local -a __rolecall_words __rolecall_candidates
    \builtin local -i __rolecall_index="$(( CURRENT - 1 ))"
    \builtin local __rolecall_line
    __rolecall_words=("${words[@]}")
    if [[ ${words[1]} != rolecall ]]; then
        __rolecall_words=(rolecall assume "${words[@]:1}")
        __rolecall_index+=1
    fi
    while IFS= \builtin read -r __rolecall_line || \builtin test -n "$__rolecall_line"; do
        __rolecall_candidates+=("$__rolecall_line")
    done < <(_CLAP_IFS=$'\n' _CLAP_COMPLETE_INDEX="$__rolecall_index" __ROLECALL_COMPLETION_VARIABLE__=zsh \
        \command rolecall -- "${__rolecall_words[@]}" 2>/dev/null)
    if (( ${#__rolecall_candidates[@]} )); then
        _describe -V values __rolecall_candidates
    fi
}
if \builtin whence compdef >/dev/null 2>&1; then
    compdef __rolecall_complete rolecall __ROLECALL_CMD__
fi

\builtin autoload -Uz add-zsh-hook

# rolecall:prompt-begin
# The prompt segment: `[profile 42m] ` before the user's PROMPT. The binary draws it (escaping
# `%`, with nothing PROMPT_SUBST would expand) while a session is active, and says on a second
# line when its text next changes; it is asked again only then, or when one of its inputs
# changed.
\builtin zmodload -F zsh/datetime p:EPOCHSECONDS
# Declared here, so that setting them in the hook is no surprise to warn_create_global.
\builtin typeset -g __rolecall_drawn __rolecall_drawn_key __rolecall_drawn_until __rolecall_prompt_prefix
# zsh gives the prompt the status the command left whatever precmd returns, so the hook returns
# 0: a failure returned from it would end a shell with err_exit set.
__rolecall_precmd() {
    \builtin local __rolecall_segment="" __rolecall_key __rolecall_drawing
    if [[ -n ${ROLECALL_PROFILE-} ]]; then
        __rolecall_key=__ROLECALL_PROMPT_KEY__
        if [[ $__rolecall_key != "${__rolecall_drawn_key-}" ]] || (( EPOCHSECONDS >= ${__rolecall_drawn_until:-0} )); then
            __rolecall_drawing="$(\command rolecall prompt --shell zsh 2>/dev/null)" || __rolecall_drawing=""
            __rolecall_drawn=${__rolecall_drawing%$'\n'*}
            __rolecall_drawn_until=${__rolecall_drawing##*$'\n'}
            __rolecall_drawn_key=$__rolecall_key
            if [[ $__rolecall_drawn_until != [0-9]* || $__rolecall_drawn_until == *[^0-9]* ]]; then
                __rolecall_drawn_until=0
            fi
        fi
        __rolecall_segment=$__rolecall_drawn
    fi
    if [[ -n $__rolecall_segment ]]; then
        __rolecall_segment+=" "
    fi
    PROMPT=$__rolecall_segment${PROMPT#"${__rolecall_prompt_prefix-}"}
    __rolecall_prompt_prefix=$__rolecall_segment
    \builtin return 0
}
add-zsh-hook precmd __rolecall_precmd
# rolecall:prompt-end

# rolecall:refresh-begin
# Auto-refresh: before each command line runs, a session about to expire is re-assumed
# quietly. Deciding that costs no process: zsh/datetime tells the time. Role ARN targets are left
# alone (re-assuming one would use its own expiring credentials), and a renewal that failed, or
# gave credentials due already, is not retried for the same session; the binary says why, once.
\builtin zmodload -F zsh/datetime p:EPOCHSECONDS
\builtin typeset -g __rolecall_refresh_failed
__rolecall_refresh_due() {
    [[ -n ${ROLECALL_PROFILE-} && ${ROLECALL_PROFILE} != arn:* ]] || \builtin return 1
    [[ ${ROLECALL_EXPIRES-} == [0-9]* && ${ROLECALL_EXPIRES} != *[^0-9]* ]] || \builtin return 1
    [[ $ROLECALL_EXPIRES != "${__rolecall_refresh_failed-}" ]] || \builtin return 1
    (( ROLECALL_EXPIRES - EPOCHSECONDS < __ROLECALL_REFRESH_SECONDS__ ))
}
__rolecall_preexec() {
    __rolecall_refresh_due || \builtin return 0
    \builtin local __rolecall_out
    if __rolecall_out="$(\command rolecall assume --shell zsh --no-input --quiet -- "$ROLECALL_PROFILE")"; then
        \builtin eval -- "$__rolecall_out"
        # New credentials that are due already count as a failed renewal, or every command
        # would renew them again.
        __rolecall_refresh_due || \builtin return 0
        __rolecall_refresh_failed=$ROLECALL_EXPIRES
        \builtin printf 'rolecall: %s was renewed only briefly and is not renewed again; run __ROLECALL_CMD__ %s\n' \
            "${ROLECALL_PROFILE//[^[:alnum:]_.@%+:\/-]/?}" "${ROLECALL_PROFILE//[^[:alnum:]_.@%+:\/-]/?}" >&2
    else
        __rolecall_refresh_failed=$ROLECALL_EXPIRES
        \builtin printf 'rolecall: %s was not renewed; run __ROLECALL_CMD__ %s\n' \
            "${ROLECALL_PROFILE//[^[:alnum:]_.@%+:\/-]/?}" "${ROLECALL_PROFILE//[^[:alnum:]_.@%+:\/-]/?}" >&2
    fi
}
add-zsh-hook preexec __rolecall_preexec
# rolecall:refresh-end
