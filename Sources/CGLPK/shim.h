// The system GLPK (libglpk-dev on Debian/Ubuntu), the LP solver behind `sovereign plan --bound`.
#include <glpk.h>
