# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rolecall_global_optspecs
    string join \n h/help V/version
end

function __fish_rolecall_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rolecall_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rolecall_using_subcommand
    set -l cmd (__fish_rolecall_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rolecall -n "__fish_rolecall_needs_command" -s h -l help -d 'Print help'
complete -c rolecall -n "__fish_rolecall_needs_command" -s V -l version -d 'Print version'
complete -c rolecall -n "__fish_rolecall_needs_command" -f -a "assume" -d 'Get credentials for TARGET and print shell code (or JSON) that sets them'
complete -c rolecall -n "__fish_rolecall_needs_command" -f -a "exec" -d 'Run one command with the credentials in its environment, leaving the shell alone'
complete -c rolecall -n "__fish_rolecall_needs_command" -f -a "credential-process" -d 'Print credential_process JSON (Version 1) so any AWS SDK or tool can use a rolecall profile'
complete -c rolecall -n "__fish_rolecall_needs_command" -f -a "profiles" -d 'List profile names, one a line'
complete -c rolecall -n "__fish_rolecall_needs_command" -f -a "completions" -d 'Print the completion script for the rolecall binary itself'
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l shell -d 'Print code for this shell (default: from $SHELL)' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -s d -l duration -d 'Session duration: 15m, 1h, 1h30m or seconds (default: the profile\'s duration_seconds, else 1h)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -s r -l region -d 'Region to put in the environment and to call STS in' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l mfa-token -d 'The current code of the MFA device, instead of a prompt on the terminal' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l session-name -d 'Role session name (default: the profile\'s role_session_name, else your user name)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l external-id -d 'External ID to pass to the target role' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l source-profile -d 'Profile whose credentials assume a role ARN target (default: the current credentials)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l json -d 'Print the variables as a JSON object instead of shell code'
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l unset -d 'Print code that removes every rolecall variable from the shell'
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l no-cache -d 'Neither read nor write the credential cache'
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -l refresh -d 'Ignore cached credentials and fetch new ones (the cache is updated)'
complete -c rolecall -n "__fish_rolecall_using_subcommand assume" -s h -l help -d 'Print help'
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -s d -l duration -d 'Session duration: 15m, 1h, 1h30m or seconds (default: the profile\'s duration_seconds, else 1h)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -s r -l region -d 'Region to put in the environment and to call STS in' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l mfa-token -d 'The current code of the MFA device, instead of a prompt on the terminal' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l session-name -d 'Role session name (default: the profile\'s role_session_name, else your user name)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l external-id -d 'External ID to pass to the target role' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l source-profile -d 'Profile whose credentials assume a role ARN target (default: the current credentials)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l no-cache -d 'Neither read nor write the credential cache'
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -l refresh -d 'Ignore cached credentials and fetch new ones (the cache is updated)'
complete -c rolecall -n "__fish_rolecall_using_subcommand exec" -s h -l help -d 'Print help'
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -s d -l duration -d 'Session duration: 15m, 1h, 1h30m or seconds (default: the profile\'s duration_seconds, else 1h)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -s r -l region -d 'Region to put in the environment and to call STS in' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l mfa-token -d 'The current code of the MFA device, instead of a prompt on the terminal' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l session-name -d 'Role session name (default: the profile\'s role_session_name, else your user name)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l external-id -d 'External ID to pass to the target role' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l source-profile -d 'Profile whose credentials assume a role ARN target (default: the current credentials)' -r
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l no-cache -d 'Neither read nor write the credential cache'
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -l refresh -d 'Ignore cached credentials and fetch new ones (the cache is updated)'
complete -c rolecall -n "__fish_rolecall_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c rolecall -n "__fish_rolecall_using_subcommand profiles" -s l -l long -d 'Also print each profile\'s role ARN and description, tab-separated'
complete -c rolecall -n "__fish_rolecall_using_subcommand profiles" -s h -l help -d 'Print help'
complete -c rolecall -n "__fish_rolecall_using_subcommand completions" -s h -l help -d 'Print help'
