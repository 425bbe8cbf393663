complete --keep-order --exclusive --command rolecall --arguments "(ROLECALL_COMPLETE=fish rolecall -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
