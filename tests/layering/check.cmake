# cmake -DBUILD_DIR=<build dir> -P check.cmake
# The allowed probe must build (so a failure of the other is about the
# include, not a broken build), and the forbidden one must fail on exactly
# the header it may not see.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target onestack_layering_allowed
  RESULT_VARIABLE allowed_rc OUTPUT_VARIABLE allowed_out ERROR_VARIABLE allowed_out)
if(NOT allowed_rc EQUAL 0)
  message(FATAL_ERROR "the allowed include did not build:\n${allowed_out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target onestack_layering_forbidden
  RESULT_VARIABLE forbidden_rc OUTPUT_VARIABLE forbidden_out ERROR_VARIABLE forbidden_out)
if(forbidden_rc EQUAL 0)
  message(FATAL_ERROR "a module that does not declare onestack_store included its header")
endif()
if(NOT forbidden_out MATCHES "store/identity_store.h: No such file or directory")
  message(FATAL_ERROR "the forbidden include failed for another reason:\n${forbidden_out}")
endif()
message(STATUS "layering: the allowed include builds, the forbidden one fails as it must")
