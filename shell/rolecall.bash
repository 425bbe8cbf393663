# rolecall shell integration for bash. Load it from ~/.bashrc with:
#   eval "$(rolecall init bash)"
# Internal names start with __rolecall_; builtins are reached through \builtin and the binary
# through \command, so aliases cannot change what runs.

# Runs the binary, and evals what it printed only when it succeeded: a failed assume leaves the
# shell exactly as it was. The binary's exit status is returned.
__rolecall_assume() {
    \builtin local __rolecall_out __rolecall_status=0
    __rolecall_out=$(\command rolecall assume --shell bash "$@") || __rolecall_status=$?
    if \builtin test "$__rolecall_status" -eq 0; then
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

# Completion for the function and the binary: the binary lists the candidates (profiles with
# their descriptions, flags, regions); the function's words are completed as `rolecall assume …`.
# bash splits words at the characters of COMP_WORDBREAKS, `:` among them, and profile names may
# hold `:`: the pieces of a name are joined again and each candidate trimmed to the part after
# the word's last `:`, the part bash replaces (as bash-completion's __ltrim_colon_completions).
__rolecall_complete() {
    \builtin local -a __rolecall_words
    __rolecall_words=()
    \builtin local __rolecall_index=-1 __rolecall_i __rolecall_word __rolecall_glue=0
    \builtin local __rolecall_line __rolecall_cur __rolecall_trim=""
    for ((__rolecall_i = 0; __rolecall_i < ${#COMP_WORDS[@]}; __rolecall_i++)); do
        __rolecall_word=${COMP_WORDS[__rolecall_i]}
        if ((__rolecall_i == COMP_CWORD)); then
            __rolecall_word=$2
        fi
        if ((${#__rolecall_words[@]} > 0)) && { \builtin test "$__rolecall_word" = : || ((__rolecall_glue)); }; then
            __rolecall_words[${#__rolecall_words[@]} - 1]+=$__rolecall_word
        else
            __rolecall_words+=("$__rolecall_word")
        fi
        __rolecall_glue=0
        if \builtin test "$__rolecall_word" = :; then
            __rolecall_glue=1
        fi
        if ((__rolecall_i == COMP_CWORD)); then
            __rolecall_index=$((${#__rolecall_words[@]} - 1))
        fi
    done
    if \builtin test "$1" != rolecall; then
        __rolecall_words=(rolecall assume "${__rolecall_words[@]:1}")
        __rolecall_index=$((__rolecall_index + 1))
    fi
    __rolecall_cur=${__rolecall_words[__rolecall_index]-}
    if [[ $__rolecall_cur == *:* && ${COMP_WORDBREAKS-} == *:* ]]; then
        __rolecall_trim=${__rolecall_cur%"${__rolecall_cur##*:}"}
    fi
    COMPREPLY=()
    while IFS= \builtin read -r __rolecall_line || \builtin test -n "$__rolecall_line"; do
        COMPREPLY+=("${__rolecall_line#"$__rolecall_trim"}")
    done < <(_CLAP_IFS=$'\n' _CLAP_COMPLETE_INDEX="$__rolecall_index" __ROLECALL_COMPLETION_VARIABLE__=bash \
        \command rolecall -- "${__rolecall_words[@]}" 2>/dev/null)
}
\builtin complete -F __rolecall_complete rolecall __ROLECALL_CMD__

# rolecall:prompt-begin
# The prompt segment: `[profile 42m] ` before the user's PS1. The binary draws it (the segment
# contains no character bash would expand) while a session is active, and says on a second line
# when its text next changes; it is asked again only then, or when one of its inputs changed.
__rolecall_update_prompt() {
    \builtin local __rolecall_segment="" __rolecall_key __rolecall_now __rolecall_drawing
    if \builtin test -n "${ROLECALL_PROFILE-}"; then
        __rolecall_key=__ROLECALL_PROMPT_KEY__
        __rolecall_now=${EPOCHSECONDS-}
        if \builtin test -z "$__rolecall_now" &&
            ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))); then
            \builtin printf -v __rolecall_now '%(%s)T' -1
        fi
        if \builtin test -z "$__rolecall_now" || \builtin test "$__rolecall_key" != "${__rolecall_drawn_key-}" ||
            \builtin test "$__rolecall_now" -ge "${__rolecall_drawn_until-0}"; then
            __rolecall_drawing=$(\command rolecall prompt --shell bash 2>/dev/null) || __rolecall_drawing=""
            __rolecall_drawn=${__rolecall_drawing%$'\n'*}
            __rolecall_drawn_until=${__rolecall_drawing##*$'\n'}
            __rolecall_drawn_key=$__rolecall_key
            case $__rolecall_drawn_until in
                '' | *[!0-9]*) __rolecall_drawn_until=0 ;;
            esac
        fi
        __rolecall_segment=$__rolecall_drawn
    fi
    if \builtin test -n "$__rolecall_segment"; then
        __rolecall_segment+=" "
    fi
    \builtin local __rolecall_ps1="${PS1-}"
    PS1=$__rolecall_segment${__rolecall_ps1#"${__rolecall_prompt_prefix-}"}
    __rolecall_prompt_prefix=$__rolecall_segment
}
# rolecall:prompt-end

# rolecall:refresh-begin
# Auto-refresh: at the first command after each prompt, a session about to expire is
# re-assumed quietly. Deciding that costs no process: bash's printf tells the time (bash 4.2+).
# Role ARN targets are left alone: re-assuming one would use its own expiring credentials.
# A renewal that failed, or gave credentials due already, is not retried for the same session;
# the binary says why, once.
__rolecall_refresh_due() {
    \builtin local __rolecall_now
    case ${ROLECALL_EXPIRES-} in
        '' | *[!0-9]*) \builtin return 1 ;;
    esac
    case ${ROLECALL_PROFILE-} in
        '' | arn:*) \builtin return 1 ;;
    esac
    \builtin test "$ROLECALL_EXPIRES" != "${__rolecall_refresh_failed-}" || \builtin return 1
    \builtin printf -v __rolecall_now '%(%s)T' -1
    \builtin test "$((ROLECALL_EXPIRES - __rolecall_now))" -lt __ROLECALL_REFRESH_SECONDS__
}

__rolecall_preexec() {
    \builtin test "${__rolecall_armed-}" = 1 || \builtin return 0
    __rolecall_armed=0
    __rolecall_refresh_due || \builtin return 0
    \builtin local __rolecall_out
    if __rolecall_out=$(\command rolecall assume --shell bash --no-input --quiet -- "$ROLECALL_PROFILE"); then
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

# The trap ends by restoring `$_`, which every DEBUG trap would otherwise overwrite.
if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2))) &&
    \builtin test -z "$(\builtin trap -p DEBUG)"; then
    \builtin trap '__rolecall_last_argument=$_; __rolecall_preexec; : "$__rolecall_last_argument"' DEBUG
fi
# rolecall:refresh-end

# rolecall:hook-begin
# Runs before each prompt. It keeps the exit status the user's prompt may show by returning it,
# and is called as the left side of `&&`, where errexit does not apply: under `set -e` a hook
# that returned a command's failure would end the shell.
__rolecall_hook() {
    \builtin local __rolecall_status="$?"
    # rolecall:prompt-begin
    __rolecall_update_prompt
    # rolecall:prompt-end
    # rolecall:refresh-begin
    __rolecall_armed=1
    # rolecall:refresh-end
    \builtin return "$__rolecall_status"
}

case $'\n'"${PROMPT_COMMAND[*]-}"$'\n' in
    *__rolecall_hook*) ;;
    *)
        # An array PROMPT_COMMAND runs every element only from bash 5.1.
        if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]] &&
            ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
            PROMPT_COMMAND+=('__rolecall_hook && \builtin true')
        else
            # A string PROMPT_COMMAND (bash before 5.1, or set so by the user) gets a new line.
            # shellcheck disable=SC2178,SC2128
            PROMPT_COMMAND="${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}"'__rolecall_hook && \builtin true'
        fi
        ;;
esac
# rolecall:hook-end
