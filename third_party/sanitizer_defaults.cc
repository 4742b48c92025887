// Default sanitizer settings compiled into every test binary.
//
// The sanitizer runtimes call these hooks at start-up when they exist, so the
// suppressions work whatever the test's working directory is (Bazel does not
// expand %workspace% inside --test_env). In builds without sanitizers nothing
// calls them.

extern "C" {

// LeakSanitizer: Debian's gRPC and protobuf keep process-lifetime singletons.
const char* __lsan_default_suppressions() {
  return "leak:libgrpc.so\n"
         "leak:libgrpc++.so\n"
         "leak:libgpr.so\n"
         "leak:libprotobuf.so\n";
}

// ThreadSanitizer: the system libraries are not instrumented, so accesses and
// synchronisation inside them are invisible to TSan.
const char* __tsan_default_suppressions() {
  return "race:libgrpc.so\n"
         "race:libgrpc++.so\n"
         "race:libgpr.so\n"
         "race:libprotobuf.so\n"
         "race:liblmdb.so\n"
         "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgpr.so\n"
         "deadlock:libabsl_synchronization.so\n";
}

}  // extern "C"
