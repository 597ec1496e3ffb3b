// A shared library that exports no swift_function, for the worker's host
// tests (FunctionLibrary refuses it).
extern "C" int not_a_swift_function() { return 0; }
