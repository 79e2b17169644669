// The one main() of every unit-test executable.
#define BOOST_TEST_MODULE monomesh
#include <boost/test/unit_test.hpp>
