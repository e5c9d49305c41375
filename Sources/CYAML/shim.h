#ifndef AISH_CYAML_SHIM_H
#define AISH_CYAML_SHIM_H
#include <yaml.h>
#endif
