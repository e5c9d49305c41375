#ifndef AISH_CEDIT_SHIM_H
#define AISH_CEDIT_SHIM_H
// Always libedit's header: GNU readline's headers may also be installed and disagree with
// the linked library.
#include <stdio.h>
#include <editline/readline.h>
#endif
