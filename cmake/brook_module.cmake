# brook_module(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#
# Declares the library brook_<name> with the alias brook::<name>. The calling
# folder is the module: include/ is its public include root (installed as is),
# src/ holds sources and private headers.
function(brook_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(M_SOURCES)
    add_library(brook_${name} ${M_SOURCES})
    target_include_directories(brook_${name}
      PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
             $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
      PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(brook_${name} PUBLIC ${M_PUBLIC_DEPS}
                          PRIVATE ${M_PRIVATE_DEPS} $<BUILD_INTERFACE:brook_warnings>)
    target_compile_features(brook_${name} PUBLIC cxx_std_20)
  else()
    add_library(brook_${name} INTERFACE)
    target_include_directories(brook_${name}
      INTERFACE $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
                $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(brook_${name} INTERFACE ${M_PUBLIC_DEPS})
    target_compile_features(brook_${name} INTERFACE cxx_std_20)
  endif()
  set_target_properties(brook_${name} PROPERTIES EXPORT_NAME ${name})
  add_library(brook::${name} ALIAS brook_${name})
  install(TARGETS brook_${name} EXPORT brookTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set_property(GLOBAL APPEND PROPERTY BROOK_COMPONENTS ${name})
endfunction()

# brook_test(<name> SOURCES ... LABELS ... [DEPS ...] [TIMEOUT s])
#
# A GoogleTest executable registered with ctest; every test gets a label and a
# timeout so a hang fails instead of stalling CI.
function(brook_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LABELS;DEPS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${name} ${T_SOURCES})
  if(BROOK_TSAN)
    # librdkafka's C11 threads and locks made visible to TSan (see the file).
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/tsan_c11_threads.cpp)
    target_link_options(${name} PRIVATE -rdynamic)
  endif()
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main brook_warnings)
  # PROPERTIES is flattened into name/value pairs, so a label list would split
  # and swallow TIMEOUT; set both from a script ctest runs after discovery.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_LIST ${name}_TESTS)
  set(props "${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake")
  file(WRITE "${props}" "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} "
                        "PROPERTIES LABELS \"${T_LABELS}\" TIMEOUT ${T_TIMEOUT})\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${props}")
endfunction()
