// Boost.JSON compiled into the fuzz targets, so its parser is instrumented too.
#include <boost/json/src.hpp>
