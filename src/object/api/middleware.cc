// The Swift middlewares layered on the core routes live one per file:
// tempurl.cc, formpost.cc, bulk.cc, staticweb.cc and cors.cc, with their
// request-free helpers declared in middleware.h. Nothing is left here.
#include "object/api/middleware.h"
