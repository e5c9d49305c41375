#ifndef AISH_CSQLITE_SHIM_H
#define AISH_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import.
static inline sqlite3_destructor_type aish_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic and cannot be called from Swift.
static inline int aish_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
