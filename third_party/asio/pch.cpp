// Anchor for the shared precompiled header (see third_party/CMakeLists.txt).
