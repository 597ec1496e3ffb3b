// The sanitizer runtimes' default options for Swift's binaries, so that a
// bare `bazel test --config=asan|ubsan|tsan` behaves as tools/test
// --sanitizers does. The runtimes call these hooks at start-up; an
// *SAN_OPTIONS variable in the environment still overrides them. The
// suppressions (tools/sanitizers/*.supp) are compiled in beside them by
// the genrule in BUILD. Harmless in a binary built without the sanitizer
// a hook belongs to: nothing calls it.
extern "C" {

// Leaks are errors (LeakSanitizer runs at exit); globals initialized in
// the wrong order across translation units too. A SIGSEGV or SIGBUS still
// kills the process by that signal (handle_segv=0): swiftd and the worker
// report how an instance died ("signal 11"), and their tests check it;
// the runtime would make every such death an exit(1).
const char* __asan_default_options() {
  return "detect_leaks=1:check_initialization_order=1:strict_init_order=1:"
         "detect_stack_use_after_return=0:print_suppressions=0:"
         "handle_segv=0:handle_sigbus=0";
}

// Stop at the first undefined behaviour, with a stack; signals as above.
const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:handle_segv=0:handle_sigbus=0";
}

// Report every race of a run (the exit code says there were any), with the
// other thread's stack; 66 is the runtime's own failure exit code. Signals
// as above.
const char* __tsan_default_options() {
  return "second_deadlock_stack=1:history_size=4:exitcode=66:"
         "print_suppressions=0:handle_segv=0:handle_sigbus=0";
}

}  // extern "C"
