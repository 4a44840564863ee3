/* demangle: symbol names as people read them.
 *
 * Mangled C++ (Itanium "_Z...") and Rust names, legacy ("_ZN...17h<hash>E"
 * with "$LT$"-style escapes) and v0 ("_R..."), are demangled by libiberty's
 * cplus_demangle (auto-detection: Rust first, then C++), never by hand.
 * Rust names lose their "::h<hash>" suffix and v0 crate disambiguators.
 *
 * Display names are then simplified the way pprof simplifies them: the
 * parameter list, template (generic) arguments, the return type and clone
 * suffixes ("[clone .constprop.0]") go; ABI tags ("[abi:cxx11]"), operator
 * names ("operator()", "operator<<", "operator new[]"), lambdas
 * ("{lambda()#1}"), Rust closures ("{{closure}}", "{closure#0}"),
 * "(anonymous namespace)" and Rust's "<T as Trait>" stay. jeprof cuts at the
 * first '(' instead, which turns every lambda into "operator"; we do not.
 * With demangle_set_full(1) (jeprof-c --full_names) display names keep
 * everything the demangler prints.
 *
 * Not thread-safe: the full-names switch is process-wide (set it once,
 * before reading profiles). All returned strings are malloc'd. */
#ifndef JEPROF_DEMANGLE_H
#define JEPROF_DEMANGLE_H

/* Does name look mangled (C++ "_Z", Rust legacy "_ZN...E" or v0 "_R")? */
int demangle_is_mangled(const char *name);
/* A malloc'd demangled copy of name (parameters and templates included,
 * Rust hash dropped), or a copy of name when it is not mangled or the
 * demangler does not accept it. */
char *demangle(const char *name);
/* A malloc'd simplified copy of a demangled name ("ns::f", "A::g",
 * "main::{lambda()#1}::operator()", "<a::S as a::T>::m"), whatever the
 * full-names switch says; a copy of full when nothing would be left. */
char *demangle_simplify(const char *full);
/* The display name of a demangled name: demangle_simplify(full), or a copy
 * of full when full names were asked for. */
char *short_function_name(const char *full);
/* The display name of a function read from a profile that names it
 * (pprof's Function.name and system_name): demangled and simplified from
 * system_name when that is mangled, else from name when it is mangled;
 * an already demangled C++/Rust name ("::") is simplified; anything else
 * (C, Go, Java) is kept as given. malloc'd. */
char *demangle_display(const char *name, const char *system_name);
/* Full names (1) or simplified names (0, the default) for display. */
void demangle_set_full(int on);
int demangle_full(void);

#endif
