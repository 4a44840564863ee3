/* demangle: C++ names through libstdc++'s __cxa_demangle, and jeprof's
 * ShortFunctionName (drop argument lists, template arguments and the
 * return type) so names read like jeprof's. */
#ifndef JEPROF_DEMANGLE_H
#define JEPROF_DEMANGLE_H

/* A malloc'd demangled copy of name, or a copy of name when not mangled. */
char *demangle(const char *name);
/* A malloc'd short name: "ns::f(int) const" -> "ns::f", "A<B>::g" -> "A::g". */
char *short_function_name(const char *full);

#endif
