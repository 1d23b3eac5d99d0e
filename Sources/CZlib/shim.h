// The system zlib (zlib1g-dev on Debian/Ubuntu), for reading gzip-compressed training data.
#include <zlib.h>
