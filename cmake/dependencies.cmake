# Every dependency is a Debian 12 package (scripts/setup.sh installs them); nothing is downloaded.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS unit_test_framework)
find_package(OpenSSL 3 REQUIRED)
find_package(Protobuf 3.21 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
# RE2: the regex engine Envoy's safe_regex is defined by; linear time on any input (no ReDoS,
# no recursion), unlike std::regex.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
